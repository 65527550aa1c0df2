import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { RapportFunction } from '#infra/constructs/rapport-function.ts';
import type { RapportStacks } from '#infra/stacks/rapport-stacks.ts';

export type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
};

/** Both synthesized templates of createRapportStacks, with the look-ups the infra tests share. */
export class RapportTemplates {
  readonly stateful: Template;
  readonly stateless: Template;

  constructor(readonly stacks: RapportStacks) {
    this.stateful = Template.fromStack(stacks.stateful);
    this.stateless = Template.fromStack(stacks.stateless);
  }

  logicalId(stack: Stack, construct: IConstruct): string {
    return stack.getLogicalId(construct.node.defaultChild as CfnElement);
  }

  /** `{ Ref }` of a stateful resource, as a stateless import of it resolves to (see exportedValue). */
  statefulRef(construct: IConstruct): unknown {
    return { Ref: this.logicalId(this.stacks.stateful, construct) };
  }

  statefulAttribute(construct: IConstruct, attribute: string): unknown {
    return { 'Fn::GetAtt': [this.logicalId(this.stacks.stateful, construct), attribute] };
  }

  functionId(fn: RapportFunction): string {
    return this.logicalId(this.stacks.stateless, fn.lambda);
  }

  resourceProperties(template: Template, id: string): Record<string, unknown> {
    const resource = template.toJSON().Resources[id];
    if (resource === undefined) throw new Error(`no resource ${id} in the template`);
    return resource.Properties;
  }

  /** The value a cross-stack import in the stateless template resolves to, as the stateful outputs name it. */
  exportedValue(importValue: unknown): unknown {
    const name = (importValue as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
    const outputs = Object.values(
      this.stateful.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>,
    );
    return outputs.find((output) => output.Export?.Name === name)?.Value;
  }

  functionEnvironment(fn: RapportFunction | string): Record<string, unknown> {
    const id = typeof fn === 'string' ? fn : this.functionId(fn);
    const properties = this.resourceProperties(this.stateless, id) as {
      Environment: { Variables: Record<string, unknown> };
    };
    return properties.Environment.Variables;
  }

  /** Every statement of the policies attached to the function's role. */
  roleStatements(fn: RapportFunction): Statement[] {
    const roleId = this.logicalId(this.stacks.stateless, fn.lambda.role ?? fn.lambda);
    const policies = Object.values(this.stateless.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    );
    return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  }

  roleActions(fn: RapportFunction): string[] {
    return this.roleStatements(fn).flatMap(actionsOf);
  }

  /** The statements that grant an action of `service` (such as "sqs:"). */
  statementsOn(fn: RapportFunction, service: string): Statement[] {
    return this.roleStatements(fn).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith(service)),
    );
  }
}

export function actionsOf(statement: Statement | undefined): string[] {
  return statement === undefined ? [] : [statement.Action].flat();
}

/** A statement's resources, without the AWS::NoValue that CDK leaves for a table without indexes. */
export function resourcesOf(statement: Statement | undefined): unknown[] {
  if (statement === undefined) return [];
  return [statement.Resource]
    .flat()
    .filter((resource) => (resource as { Ref?: string }).Ref !== 'AWS::NoValue');
}
