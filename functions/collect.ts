import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { collectEvents } from '#shared/collect/collect-events.ts';
import { collectRoute } from '#shared/collect/request.ts';
import { corsHeaders, header, httpErrorPolicy, json } from '#shared/http.ts';

/**
 * POST /v1/batch and /v1/{track,identify,page,screen,group,alias}: the Segment HTTP Tracking API.
 * 200 `{success, accepted, rejected}` once the accepted events are on the ingest queue.
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorPolicy())
  .handler(async (event) => {
    if (event.requestContext.http.method === 'OPTIONS')
      return { statusCode: 204, headers: { ...corsHeaders } };
    const result = await collectEvents({
      route: collectRoute(event.rawPath),
      body: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8'),
      contentEncoding: header(event, 'content-encoding'),
      authorization: header(event, 'authorization'),
      nowMillis: Date.now(),
    });
    return json(200, { success: true, ...result });
  });
