import { type SESv2ServiceException, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from '../clients/ses.ts';
import { runtimeConfig } from '../config.ts';

/** One email as SES v2 sends it: Simple content, so that custom headers (List-Unsubscribe) go along. */
export interface Email {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  tags: Record<string, string>;
}

/** SES refused the mail for good (a bad address, an unverified sender): retrying will not help. */
export class PermanentSendError extends Error {
  override name = 'PermanentSendError';
}

/** SES is throttling or unavailable: the send is retried later. */
export class TransientSendError extends Error {
  override name = 'TransientSendError';
}

const transientErrors = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'ServiceUnavailable',
  'InternalFailure',
]);

/** Sends the email and returns SES's message id. */
export async function sendEmail(email: Email): Promise<string> {
  const configurationSet = runtimeConfig().RAPPORT_SES_CONFIGURATION_SET;
  try {
    const result = await sesClient().send(
      new SendEmailCommand({
        FromEmailAddress: email.from,
        Destination: { ToAddresses: [email.to] },
        ...(email.replyTo ? { ReplyToAddresses: [email.replyTo] } : {}),
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: {
              Html: { Data: email.html, Charset: 'UTF-8' },
              Text: { Data: email.text, Charset: 'UTF-8' },
            },
            Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
          },
        },
        EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value: tagValue(Value) })),
        ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
      }),
    );
    return result.MessageId ?? '';
  } catch (error) {
    const name = (error as Partial<SESv2ServiceException>).name ?? '';
    const status = (error as Partial<SESv2ServiceException>).$metadata?.httpStatusCode ?? 0;
    const message = error instanceof Error ? error.message : String(error);
    if (transientErrors.has(name) || status >= 500 || status === 0) {
      throw new TransientSendError(`SES did not take the email: ${name || 'network error'}: ${message}`);
    }
    throw new PermanentSendError(`SES refused the email: ${name}: ${message}`);
  }
}

/** SES tag values allow letters, digits, _ - . @ and at most 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 256) || '_';
}
