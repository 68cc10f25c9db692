export * from './schema';
export * from './messages';
export * from './token';
export * from './serial';
