import type { Random } from './random.ts';

/** Who the synthetic customers are: persona, name, e-mail and browser, decided once per customer. */
export type Persona = 'buyer' | 'subscriber' | 'visitor';

export interface CustomerPlan {
  index: number;
  persona: Persona;
  anonymousId: string;
  userId: string;
  firstName: string;
  lastName: string;
  email: string;
  subscribed: boolean;
  /** Orders a buyer places if their journey lasts long enough. */
  plannedOrders: number;
  firstVisit: number;
  /** The mean pause between sessions, so that long journeys still end within the window. */
  sessionGap: number;
  browser: { userAgent: string; locale: string; timezone: string };
}

export function planCustomer(
  random: Random,
  index: number,
  firstVisit: number,
  sessionGap: number,
): CustomerPlan {
  const roll = random.next();
  const persona: Persona = roll < 0.35 ? 'buyer' : roll < 0.65 ? 'subscriber' : 'visitor';
  const firstName = random.pick(firstNames);
  const lastName = random.pick(lastNames);
  const userId = `usr_${index.toString(36)}${random.hex(10)}`;
  const orderRoll = random.next();
  return {
    index,
    persona,
    anonymousId: random.uuid(),
    userId,
    firstName,
    lastName,
    email: `${firstName}.${lastName.replace(/\W/g, '')}.${index}@mail.example`.toLowerCase(),
    subscribed: random.chance(0.7),
    plannedOrders: orderRoll < 0.75 ? 1 : orderRoll < 0.95 ? 2 : 3,
    firstVisit,
    sessionGap,
    browser: {
      userAgent: random.pick(userAgents),
      locale: random.pick(locales),
      timezone: random.pick(timezones),
    },
  };
}

const userAgents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
];
const firstNames = [
  'Ada',
  'Grace',
  'Frida',
  'Claude',
  'Henri',
  'Mary',
  'Pablo',
  'Georgia',
  'Berthe',
  'Edgar',
];
const lastNames = [
  'Lovelace',
  'Hopper',
  'Kahlo',
  'Monet',
  'Matisse',
  'Cassatt',
  'Picasso',
  "O'Keeffe",
  'Morisot',
];
const locales = ['en-US', 'en-GB', 'de-DE', 'fr-FR'];
const timezones = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin'];
