import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { PermanentSendError, sendEmail, TransientSendError } from '#shared/send/ses-email.ts';
import { useTestRuntime } from '../support/runtime-env.ts';

const ses = mockClient(SESv2Client);
useTestRuntime([ses], { RAPPORT_SES_CONFIGURATION_SET: 'rapport' });

const email = {
  from: 'Shop <shop@shop.example>',
  to: 'ada@example.com',
  subject: 'Hi',
  html: '<p>Hi</p>',
  text: 'Hi',
  headers: {
    'List-Unsubscribe': '<https://api.shop.example/u/t>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  tags: { campaign: 'cart-recovery', customer: 'ada+shop@example.com' },
};

function failure(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('sendEmail', () => {
  beforeEach(() => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
  });

  it('sends Simple content with the headers, the configuration set and tags SES accepts', async () => {
    await expect(sendEmail(email)).resolves.toBe('ses-1');
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      FromEmailAddress: email.from,
      Destination: { ToAddresses: ['ada@example.com'] },
      ConfigurationSetName: 'rapport',
      Content: {
        Simple: {
          Subject: { Data: 'Hi', Charset: 'UTF-8' },
          Body: { Html: { Data: '<p>Hi</p>', Charset: 'UTF-8' }, Text: { Data: 'Hi', Charset: 'UTF-8' } },
          Headers: [
            { Name: 'List-Unsubscribe', Value: '<https://api.shop.example/u/t>' },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
          ],
        },
      },
      EmailTags: [
        { Name: 'campaign', Value: 'cart-recovery' },
        { Name: 'customer', Value: 'ada_shop@example.com' },
      ],
    });
  });

  it('calls throttling and server errors transient, so the queue retries them', async () => {
    for (const [name, status] of [
      ['TooManyRequestsException', 429],
      ['LimitExceededException', 400],
      ['InternalFailure', 500],
    ] as const) {
      ses.on(SendEmailCommand).rejects(failure(name, status));
      await expect(sendEmail(email)).rejects.toBeInstanceOf(TransientSendError);
    }
  });

  it('calls a refusal permanent, naming SES reason', async () => {
    ses.on(SendEmailCommand).rejects(failure('MessageRejected', 400));
    const attempt = sendEmail(email);
    await expect(attempt).rejects.toBeInstanceOf(PermanentSendError);
    await expect(attempt).rejects.toThrow('SES refused the email: MessageRejected: MessageRejected happened');
  });
});
