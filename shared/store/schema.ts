/**
 * The table's key schema, shared by the CDK stack and the local runtime so that both build the same
 * table. One table holds every item kind (see table.ts).
 */
export const tableKeys = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

export const tableDefinition = {
  AttributeDefinitions: [
    { AttributeName: tableKeys.partitionKey, AttributeType: 'S' as const },
    { AttributeName: tableKeys.sortKey, AttributeType: 'S' as const },
  ],
  KeySchema: [
    { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' as const },
  ],
  BillingMode: 'PAY_PER_REQUEST' as const,
};
