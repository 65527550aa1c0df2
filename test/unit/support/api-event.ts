import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpEvent } from '../collect/fixtures.ts';

/** A request to a route of the HTTP API, named by its route template as in infra/routes.ts. */
export interface ApiRequest {
  /** The route template, such as `/v1/customers/{id}/timeline`. */
  route: string;
  method?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * The payload format 2.0 event API Gateway sends for a matched route: the collect fixture's event with
 * the route key, the path filled in from the path parameters, and the query string.
 */
export function apiEvent(request: ApiRequest): APIGatewayProxyEventV2 {
  const method = request.method ?? 'GET';
  const pathParameters = request.pathParameters ?? {};
  const path = request.route.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(pathParameters[name] ?? ''),
  );
  const base = httpEvent({ path, method, ...(request.headers ? { headers: request.headers } : {}) });
  const routeKey = `${method} ${request.route}`;
  return {
    ...base,
    routeKey,
    requestContext: { ...base.requestContext, routeKey },
    rawQueryString: new URLSearchParams(request.query).toString(),
    ...(request.pathParameters ? { pathParameters } : {}),
    ...(request.query ? { queryStringParameters: request.query } : {}),
  };
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** A handler's answer with its JSON body parsed. */
export function parsed(result: APIGatewayProxyStructuredResultV2): {
  status: number | undefined;
  headers: APIGatewayProxyStructuredResultV2['headers'];
  body: Record<string, unknown>;
} {
  const body: unknown = result.body === undefined ? {} : JSON.parse(result.body);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error(`expected a JSON object body, got ${result.body}`);
  }
  return { status: result.statusCode, headers: result.headers, body: body as Record<string, unknown> };
}
