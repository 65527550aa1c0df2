import type { IngestEvent } from '#events/ingest-event.ts';
import { trackName } from './event-kinds.ts';
import { type Instant, laterAt } from './instant.ts';
import { fieldsOf } from './segment-fields.ts';

/** How the customer treats the mail we send, from Segment's email events. */
export interface EmailEngagement {
  /** Consent to newsletters: false until an identify call says otherwise. */
  subscribed: boolean;
  delivered: number;
  opened: number;
  clicked: number;
  lastOpenedAt: string | null;
  lastClickedAt: string | null;
  /** Opens since the last click: a reader who opens and never clicks. */
  openedWithoutClickStreak: number;
  bounced: number;
  complained: number;
  /** Bounced or complained: no more mail, whatever `subscribed` says. */
  suppressed: boolean;
}

export function emptyEmail(): EmailEngagement {
  return {
    subscribed: false,
    delivered: 0,
    opened: 0,
    clicked: 0,
    lastOpenedAt: null,
    lastClickedAt: null,
    openedWithoutClickStreak: 0,
    bounced: 0,
    complained: 0,
    suppressed: false,
  };
}

export function foldEmail(email: EmailEngagement, event: IngestEvent, when: Instant): EmailEngagement {
  if (event.type === 'identify') return withConsent(email, event);
  switch (trackName(event)) {
    case 'Email Delivered':
      return { ...email, delivered: email.delivered + 1 };
    case 'Email Opened':
      return {
        ...email,
        opened: email.opened + 1,
        lastOpenedAt: laterAt(email.lastOpenedAt, when),
        openedWithoutClickStreak: email.openedWithoutClickStreak + 1,
      };
    case 'Email Link Clicked':
      return {
        ...email,
        clicked: email.clicked + 1,
        lastClickedAt: laterAt(email.lastClickedAt, when),
        openedWithoutClickStreak: 0,
      };
    case 'Email Bounced':
      return { ...email, bounced: email.bounced + 1, suppressed: true };
    case 'Email Marked as Spam':
      return { ...email, complained: email.complained + 1, suppressed: true };
    case 'Unsubscribed':
      return { ...email, subscribed: false };
    default:
      return email;
  }
}

/**
 * Only an identify call's own traits change consent: the traits a browser echoes in the context of
 * later calls may be older than an unsubscribe.
 */
function withConsent(email: EmailEngagement, event: IngestEvent): EmailEngagement {
  const subscribed = fieldsOf(event.traits)?.subscribed;
  return typeof subscribed === 'boolean' && subscribed !== email.subscribed
    ? { ...email, subscribed }
    : email;
}
