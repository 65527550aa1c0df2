import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '#infra/local/stack.ts';
import { gatewayRequest } from './gateway.ts';
import { parseObject } from './json.ts';
import { seededRandom } from './random.ts';
import { queueDepth } from './sampler.ts';
import type { CustomerOutcome } from './synthetic.ts';

/** The checks that make a run count: nothing lost, and customers read back as they were generated. */
export interface ReadBackCheck {
  id: string;
  orders: number;
  revenue: string | null;
  identified: boolean;
}

/** Every posted event was handled, and none of them ended in the dead-letter queue. */
export async function checkNothingLost(stack: LocalStack, sqs: SQSClient, events: number): Promise<void> {
  const { visible, inFlight } = await queueDepth(sqs, stack.queues.dlqUrl);
  const dead = visible + inFlight;
  if (dead > 0) throw new Error(`${dead} of ${events} events ended in the ingest dead-letter queue`);
}

/**
 * Reads customers back through GET /v1/customers/{id}: two random buyers and one random customer of
 * any kind, chosen by the seed. Their orders, revenue and linked identity must be what was generated.
 */
export async function readBackCustomers(
  stack: LocalStack,
  customers: readonly CustomerOutcome[],
  seed: string,
): Promise<ReadBackCheck[]> {
  const random = seededRandom(`${seed}/read-back`);
  const buyers = customers.filter((customer) => customer.orders > 0);
  const chosen = new Set<CustomerOutcome>();
  for (let attempt = 0; chosen.size < Math.min(2, buyers.length) && attempt < 100; attempt++) {
    chosen.add(random.pick(buyers));
  }
  for (let attempt = 0; chosen.size < Math.min(3, customers.length) && attempt < 100; attempt++) {
    chosen.add(random.pick(customers));
  }
  const checks: ReadBackCheck[] = [];
  for (const customer of chosen) checks.push(await readBackCustomer(stack, customer));
  return checks;
}

async function readBackCustomer(stack: LocalStack, customer: CustomerOutcome): Promise<ReadBackCheck> {
  const id = customer.userId ?? customer.anonymousId;
  const { status, text } = await gatewayRequest(stack, `/v1/customers/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${stack.keys.admin}` },
  });
  if (status !== 200) {
    throw new Error(`read-back of ${id}: GET /v1/customers answered ${status}: ${text.slice(0, 300)}`);
  }
  const expectedRevenue = customer.orders > 0 ? (customer.revenueCents / 100).toFixed(2) : undefined;
  const problems = differences(parseObject(text), customer, expectedRevenue);
  if (problems.length > 0) throw new Error(`read-back of ${id} does not match: ${problems.join('; ')}`);
  return {
    id,
    orders: customer.orders,
    revenue: expectedRevenue ?? null,
    identified: Boolean(customer.userId),
  };
}

/** Where the customer view differs from what was generated for the customer. */
function differences(
  view: Record<string, unknown> | undefined,
  customer: CustomerOutcome,
  expectedRevenue: string | undefined,
): string[] {
  const orders = parseObject(view?.orders);
  const revenue = parseObject(orders?.revenue);
  const traits = parseObject(view?.traits);
  const anonymousIds = Array.isArray(view?.anonymousIds) ? view.anonymousIds : [];
  const problems: string[] = [];
  if (orders?.count !== customer.orders) {
    problems.push(`orders.count is ${String(orders?.count)}, generated ${customer.orders}`);
  }
  if (expectedRevenue !== undefined && revenue?.USD !== expectedRevenue) {
    problems.push(`orders.revenue.USD is ${String(revenue?.USD)}, generated ${expectedRevenue}`);
  }
  if (customer.userId && !anonymousIds.includes(customer.anonymousId)) {
    problems.push(`anonymousIds lacks ${customer.anonymousId}, which identify linked`);
  }
  if (customer.email && traits?.email !== customer.email) {
    problems.push(`traits.email is ${String(traits?.email)}, generated ${customer.email}`);
  }
  return problems;
}
