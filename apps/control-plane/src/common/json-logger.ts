import { type LoggerService } from '@nestjs/common';
import { type LogLevel } from '../config/config';

const NEST_BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Structured logs: one JSON object per line on stdout ({ time, level, context, msg, ...fields }).
 * Callers pass only metadata — never tokens, keys or request bodies; `fields` is for ids, paths, codes.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly write: (line: string) => void = (l) => process.stdout.write(l),
  ) {}

  emit(level: LogLevel, msg: string, context?: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < RANK[this.level]) {
      return;
    }
    const rec = { time: new Date().toISOString(), level, context, msg, ...fields };
    this.write(`${JSON.stringify(rec)}\n`);
  }

  log(message: unknown, context?: string): void {
    // Nest's start-up chatter (one line per module and route) is debug detail, not operational news.
    if (context && NEST_BOOT_CONTEXTS.has(context)) {
      this.emit('debug', String(message), context);
      return;
    }
    this.emit('info', String(message), typeof context === 'string' ? context : undefined);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack?, context?); keep the stack out of the message line but in the record.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    this.emit('error', message instanceof Error ? message.message : String(message), context, stack ? { stack } : undefined);
  }
  warn(message: unknown, context?: string): void {
    this.emit('warn', String(message), typeof context === 'string' ? context : undefined);
  }
  debug(message: unknown, context?: string): void {
    this.emit('debug', String(message), typeof context === 'string' ? context : undefined);
  }
  verbose(message: unknown, context?: string): void {
    this.emit('debug', String(message), typeof context === 'string' ? context : undefined);
  }
}
