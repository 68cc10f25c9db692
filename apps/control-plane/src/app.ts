import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { type Server } from 'node:https';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { ApiExceptionFilter } from './common/exception.filter';
import { JsonLogger } from './common/json-logger';
import { type PalisadeRequest, requestIdFor } from './common/request-context';
import { createValidationPipe } from './common/validation';
import { type AppConfig } from './config/config';
import { openDatabase } from './database/data-source';
import { databaseTarget } from './database/target';
import { ApiTokensService } from './modules/apitokens/apitokens.service';
import { CaService } from './modules/ca/ca.service';
import { issueServerCertificate, type ServerTlsMaterial } from './modules/ca/server-certificate';
import { httpDuration, startDefaultMetrics } from './modules/health/metrics';

export interface CreateAppOptions {
  logger?: JsonLogger;
  extraModules?: Type[];
}

/** A running (or ready-to-listen) control plane. */
export interface ControlPlane {
  app: NestExpressApplication;
  config: AppConfig;
  dataSource: DataSource;
  /** https://host:port once listening ('' before). */
  url: string;
  port: number;
  caFile: string;
  caFingerprint: string;
  /** Set when this start generated the bootstrap admin token and wrote it there. */
  adminTokenFile: string | null;
  listen(): Promise<string>;
  /** Stops serving, then closes the database (PGlite is flushed to disk). Idempotent. */
  close(): Promise<void>;
}

/** PALISADE_KEK, or `<data dir>/kek` (32 random bytes, base64, created 0600 on first start). */
async function resolveKek(config: AppConfig): Promise<Buffer> {
  if (config.kek) {
    return config.kek;
  }
  const file = join(config.dataDir, 'kek');
  try {
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw e;
    }
  }
  const kek = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (kek.length !== 32) {
    throw new Error(`${file} does not hold a base64 32-byte key`);
  }
  return kek;
}

/**
 * Builds the control plane: opens and migrates the database, bootstraps the CA and the admin token,
 * initialises Nest on an HTTPS server (TLS 1.3 only; client certificates requested but verified by the
 * agent routes, not the handshake, so people without certificates can still use the API), and writes
 * `<data dir>/ca.pem`. Call listen() to serve.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<ControlPlane> {
  const logger = options.logger ?? new JsonLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const kek = await resolveKek(config);
  const dataSource = await openDatabase(databaseTarget(config));
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.register({ config, dataSource, kek, extraModules: options.extraModules }), {
      logger,
      bodyParser: false,
      abortOnError: false,
      // Nest's HttpsOptions type omits minVersion; node:https accepts it. The key and certificate are set
      // after init (they come from the CA in the database) with setSecureContext.
      httpsOptions: { requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' } as object,
    });
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
  startDefaultMetrics();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((req: PalisadeRequest, res: { setHeader(k: string, v: string): void; on(e: 'finish', f: () => void): void; statusCode: number }, next: () => void) => {
    req.requestId = requestIdFor(req.headers['x-request-id']);
    res.setHeader('x-request-id', req.requestId);
    const end = httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req as unknown as { route?: { path?: string } }).route?.path ?? 'unmatched';
      end({ route, status: String(res.statusCode) });
      logger.emit('debug', 'request', 'http', { requestId: req.requestId, method: req.method, route, status: res.statusCode, token: req.principal?.tokenId });
    });
    next();
  });
  app.useBodyParser('json', { limit: '5mb' });
  app.useBodyParser('text', { type: ['application/yaml', 'text/yaml', 'application/x-yaml'], limit: '5mb' });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(logger));
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Palisade control plane').setVersion('0.1.0').addBearerAuth().build(),
  );
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  await app.init();

  const ca = app.get(CaService);
  await ca.init();
  const { generated } = await app.get(ApiTokensService).bootstrapAdmin(config.adminToken);
  let adminTokenFile: string | null = null;
  if (generated) {
    adminTokenFile = join(config.dataDir, 'admin-token');
    await writeFile(adminTokenFile, `${generated}\n`, { mode: 0o600 });
  }
  const caFile = join(config.dataDir, 'ca.pem');
  await writeFile(caFile, ca.rootCertPem(), { mode: 0o644 });

  const server = app.getHttpServer() as Server;
  let renewTimer: NodeJS.Timeout | null = null;
  const applyTls = (m: ServerTlsMaterial) => server.setSecureContext({ key: m.key, cert: m.cert, ca: m.ca, minVersion: 'TLSv1.3' });
  const refreshTls = async () => {
    const m = await issueServerCertificate(ca, config);
    applyTls(m);
    if (renewTimer) {
      clearTimeout(renewTimer);
    }
    // Renew at half life; unref so the timer never keeps a stopping process alive.
    renewTimer = setTimeout(() => void refreshTls().catch((e: Error) => logger.emit('error', `server certificate renewal failed: ${e.message}`, 'tls')), (m.notAfter.getTime() - Date.now()) / 2);
    renewTimer.unref();
  };
  await refreshTls();
  const offBundle = ca.onBundleChange(() => void refreshTls().catch((e: Error) => logger.emit('error', `TLS refresh failed: ${e.message}`, 'tls')));

  let closed: Promise<void> | null = null;
  const cp: ControlPlane = {
    app,
    config,
    dataSource,
    url: '',
    port: 0,
    caFile,
    caFingerprint: ca.rootFingerprint(),
    adminTokenFile,
    async listen() {
      await app.listen(config.listenPort, config.listenHost);
      const addr = server.address() as AddressInfo;
      cp.port = addr.port;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      cp.url = `https://${host}:${addr.port}`;
      return cp.url;
    },
    close() {
      closed ??= (async () => {
        offBundle();
        if (renewTimer) {
          clearTimeout(renewTimer);
        }
        server.closeIdleConnections?.();
        await app.close();
        await dataSource.destroy();
      })();
      return closed;
    },
  };
  return cp;
}

/** createApp + listen, then logs where it listens, the CA file and fingerprint, and a generated admin token's file. */
export async function startControlPlane(config: AppConfig, options: CreateAppOptions = {}): Promise<ControlPlane> {
  const logger = options.logger ?? new JsonLogger(config.logLevel);
  const cp = await createApp(config, { ...options, logger });
  try {
    await cp.listen();
  } catch (e) {
    await cp.close();
    throw e;
  }
  logger.emit('info', `listening on ${cp.url}`, 'control-plane', {
    url: cp.url,
    database: config.databaseUrl ? 'postgres' : 'pglite',
    caFile: cp.caFile,
    caFingerprint: cp.caFingerprint,
    ...(cp.adminTokenFile ? { adminTokenFile: cp.adminTokenFile } : {}),
  });
  return cp;
}
