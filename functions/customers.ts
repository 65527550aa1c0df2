import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requireAdminKey } from '#shared/admin-auth.ts';
import {
  maxTimelineLimit,
  parseCursor,
  readCustomer,
  readTimeline,
} from '#shared/customers/read-customer.ts';
import { BadRequestError, httpErrorPolicy, json } from '#shared/http.ts';
import { engagementSettingsFromConfig } from '#shared/settings.ts';

/** GET /v1/customers/{id} and GET /v1/customers/{id}/timeline (admin key). */
const readCustomers = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const now = new Date();
  await requireAdminKey(event, now.getTime());
  const id = event.pathParameters?.id;
  if (!id) throw new BadRequestError('path: a customer id is required, as in /v1/customers/{id}');
  if (!event.routeKey.endsWith('/timeline')) {
    return json(200, await readCustomer(id, now, engagementSettingsFromConfig()));
  }
  return json(200, await readTimeline(id, timelineOptions(event.queryStringParameters ?? {})));
};

function timelineOptions(query: Record<string, string | undefined>) {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxTimelineLimit) {
    throw new BadRequestError(`limit: expected a whole number from 1 to ${maxTimelineLimit}`);
  }
  if (query.before === undefined) return { limit };
  const before = parseCursor(query.before);
  if (!before)
    throw new BadRequestError('before: expected an ISO 8601 timestamp or the "next" cursor of a page');
  return { limit, before };
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorPolicy())
  .handler(readCustomers);
