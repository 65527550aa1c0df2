import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { routes as declaredRoutes, type FunctionName, type Route } from '#infra/routes.ts';
import { corsHeaders, json } from '#shared/http.ts';
import { describeError, HandlerTimeoutError, withHandlerTimeout } from './handler-timeout.ts';
import { lambdaContext } from './lambda-context.ts';
import { StartupError } from './startup-error.ts';

/**
 * The local stand-in for API Gateway's HTTP API: it serves the routes declared in infra/routes.ts by
 * building the same payload format 2.0 events and calling the same handlers in this process.
 */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => unknown;
export type HttpHandlerLoader = (name: FunctionName) => Promise<HttpHandler>;

export interface GatewayOptions {
  loadHandler: HttpHandlerLoader;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  host?: string;
  routes?: Route[];
  /** Larger bodies are refused with 413 before they are read. */
  maxBodyBytes?: number;
  /** API Gateway gives up on an integration after 30 s. */
  timeoutMs?: number;
  region?: string;
  /** One line per request; silent by default. */
  log?: (line: string) => void;
  /** Handler failures, with their stack; default stderr. */
  logError?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

export class PortInUseError extends StartupError {
  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    super(`port ${port} on ${host} is in use`);
  }
}

export const defaultMaxBodyBytes = 1024 * 1024;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? 3000;
  const table = compileRoutes(options.routes ?? declaredRoutes);
  const settings: RequestSettings = {
    table,
    loadHandler: options.loadHandler,
    maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
    timeoutMs: options.timeoutMs ?? 30_000,
    region: options.region ?? 'us-east-1',
    log: options.log ?? (() => {}),
    logError: options.logError ?? ((line) => console.error(line)),
  };
  const server = createServer((req, res) => {
    serve(req, res, settings).catch((error: unknown) => {
      settings.logError(`gateway: ${describeError(error)}`);
      if (!res.headersSent) writeResult(res, json(500, { success: false, error: 'internal error' }), '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(requestedPort, host) : error);
    });
    server.listen(requestedPort, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : requestedPort;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // A client holding a request open must not keep the stack from stopping.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      return closing;
    },
  };
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  params: string[];
}

interface RequestSettings {
  table: CompiledRoute[];
  loadHandler: HttpHandlerLoader;
  maxBodyBytes: number;
  timeoutMs: number;
  region: string;
  log: (line: string) => void;
  logError: (line: string) => void;
}

function compileRoutes(routes: Route[]): CompiledRoute[] {
  const compiled = routes.map((route) => {
    const params: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        const param = /^\{([^}+]+)(\+?)\}$/.exec(segment);
        if (!param?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(param[1]);
        return param[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    return { route, pattern: new RegExp(`^${source}$`), params };
  });
  // API Gateway prefers the most specific route: fewer parameters first.
  return compiled.sort((a, b) => a.params.length - b.params.length);
}

function match(table: CompiledRoute[], method: string, rawPath: string) {
  const candidates = table.filter((entry) => entry.pattern.test(rawPath));
  const exact = candidates.find((entry) => entry.route.method === method);
  return { exact, pathKnown: candidates.length > 0 };
}

async function serve(req: IncomingMessage, res: ServerResponse, settings: RequestSettings): Promise<void> {
  const started = Date.now();
  const requestId = randomUUID();
  const method = (req.method ?? 'GET').toUpperCase();
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);
  const { exact, pathKnown } = match(settings.table, method, rawPath);
  const done = (result: APIGatewayProxyStructuredResultV2): void => {
    writeResult(res, result, requestId);
    settings.log(`${method} ${target} ${result.statusCode ?? 200} ${Date.now() - started}ms`);
  };

  if (method === 'OPTIONS' && pathKnown) {
    done({ statusCode: 204, headers: { ...corsHeaders } });
    return;
  }
  if (!exact) {
    drain(req);
    done(json(404, { success: false, error: `no route for ${method} ${rawPath}` }));
    return;
  }
  const body = await readBody(req, settings.maxBodyBytes);
  if (body === 'too large') {
    res.setHeader('connection', 'close');
    res.once('finish', () => req.socket.destroy());
    done(json(413, { success: false, error: `request body exceeds ${settings.maxBodyBytes} bytes` }));
    return;
  }

  const values = exact.pattern.exec(rawPath)?.slice(1) ?? [];
  const pathParameters = Object.fromEntries(
    exact.params.map((name, i) => [name, decodePart(values[i] ?? '')]),
  );
  const event = buildEvent(req, {
    routeKey: `${exact.route.method} ${exact.route.path}`,
    rawPath,
    rawQueryString,
    pathParameters,
    body,
    requestId,
    now: started,
  });
  let result: unknown;
  try {
    const handler = await settings.loadHandler(exact.route.function);
    const context = lambdaContext(exact.route.function, settings.timeoutMs, settings.region);
    result = await withHandlerTimeout(Promise.resolve(handler(event, context)), settings.timeoutMs);
  } catch (error) {
    if (error instanceof HandlerTimeoutError) {
      done(json(503, { success: false, error: 'the handler did not answer in time' }));
      return;
    }
    settings.logError(
      `${exact.route.function} handler failed on ${method} ${rawPath}: ${describeError(error)}`,
    );
    done(json(500, { success: false, error: 'internal error' }));
    return;
  }
  done(toStructured(result));
}

interface EventParts {
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  pathParameters: Record<string, string>;
  body: Buffer;
  requestId: string;
  now: number;
}

/** The payload format 2.0 event API Gateway would send for this request. */
function buildEvent(req: IncomingMessage, parts: EventParts): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (name === 'cookie') {
      cookies.push(...value.split(/;\s*/).filter(Boolean));
      continue;
    }
    // API Gateway joins repeated headers with a comma.
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');

  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(parts.rawQueryString)) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const hasBody = parts.body.length > 0;
  const text = hasBody && isText(parts.body, headers['content-type'], headers['content-encoding']);
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey: parts.routeKey,
    rawPath: parts.rawPath,
    rawQueryString: parts.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(parts.pathParameters).length > 0 ? { pathParameters: parts.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: (headers.host ?? '127.0.0.1').split('.')[0] ?? 'local',
      http: {
        method,
        path: parts.rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: parts.requestId,
      routeKey: parts.routeKey,
      stage: '$default',
      time: clfTime(new Date(parts.now)),
      timeEpoch: parts.now,
    },
    ...(hasBody ? { body: text ? parts.body.toString('utf8') : parts.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * API Gateway passes textual content types as text and base64-encodes everything else, including a
 * compressed body (Content-Encoding), whatever its type says.
 */
function isText(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): boolean {
  if (contentEncoding && contentEncoding.trim().toLowerCase() !== 'identity') return false;
  if (!isTextualType(contentType)) return false;
  try {
    utf8.decode(body);
    return true;
  } catch {
    return false;
  }
}

function isTextualType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

/**
 * A handler may return a structured result, or anything else, which API Gateway answers as 200 JSON
 * (a string is taken as the JSON text itself).
 */
function toStructured(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (isStructured(result)) return result;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof result === 'string' ? result : (JSON.stringify(result) ?? ''),
  };
}

function isStructured(result: unknown): result is APIGatewayProxyStructuredResultV2 {
  return typeof result === 'object' && result !== null && 'statusCode' in result;
}

function writeResult(
  res: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
  requestId: string,
): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies && result.cookies.length > 0) res.setHeader('set-cookie', result.cookies);
  if (requestId) res.setHeader('apigw-requestid', requestId);
  const body = result.body ?? '';
  res.statusCode = result.statusCode ?? 200;
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return 'too large';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Discard the body of a request we answer without reading it, so the connection can be reused. */
function drain(req: IncomingMessage): void {
  req.resume();
}

function decodePart(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The request time as API Gateway writes it: `12/Mar/2020:19:03:58 +0000`. */
function clfTime(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${two(at.getUTCDate())}/${months[at.getUTCMonth()]}/${at.getUTCFullYear()}:` +
    `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`
  );
}
