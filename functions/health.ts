import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { checkHealth } from '#shared/health.ts';
import { httpErrorPolicy, json } from '#shared/http.ts';

/** GET /health: 200 when the stack can take events, 503 naming what is down otherwise. */
export const handler = middy<unknown, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorPolicy())
  .handler(async () => {
    const health = await checkHealth();
    return json(health.ok ? 200 : 503, health);
  });
