import type { Catalog, CatalogSource } from '#shared/campaigns/catalog.ts';
import { InvalidCatalogError } from './campaign-catalog.ts';

/** Who the send function may send as: the catalog's From addresses, and the SES identities that cover them. */
export interface SesSenders {
  /** Every From address, sending.from and each campaign's message.from. */
  addresses: string[];
  /** The identities SES may authorize a send from one of them against: each address and its domain. */
  identities: string[];
}

/** `Shop <hello@shop.example>` or `hello@shop.example`. */
const fromPattern = /^(?:[^<>]*<\s*(?<named>[^<>\s@]+@[^<>\s@]+)\s*>|\s*(?<bare>[^<>\s@]+@[^<>\s@]+))\s*$/;

/**
 * The senders of a checked catalog. SES authorizes a send against the verified identity of its From
 * address, which is the address itself or its domain, whichever the operator verified; both are listed.
 * A From without a readable address fails the synth, naming its file and field.
 */
export function sesSenders(catalog: Catalog, source: CatalogSource): SesSenders {
  const problems: string[] = [];
  const addresses = new Set<string>();
  const add = (from: string, where: string) => {
    const match = fromPattern.exec(from);
    const address = match?.groups?.named ?? match?.groups?.bare;
    if (address === undefined) {
      problems.push(`${where}: expected a sender like "Shop <hello@shop.example>", got "${from}"`);
    } else {
      addresses.add(address);
    }
  };
  add(catalog.sending.from, `${source.sendingFile}: sending.from`);
  for (const campaign of catalog.campaigns) {
    if (campaign.message.from !== undefined) {
      add(campaign.message.from, `${campaignFile(source, campaign.id)}: message.from`);
    }
  }
  if (problems.length > 0) throw new InvalidCatalogError(problems);
  const sorted = [...addresses].sort();
  const domains = sorted.map((address) => address.slice(address.lastIndexOf('@') + 1));
  return { addresses: sorted, identities: [...new Set([...sorted, ...domains])].sort() };
}

function campaignFile(source: CatalogSource, id: string): string {
  const found = source.campaigns.find(({ file }) => file.replace(/^.*\//, '').replace(/\.ya?ml$/, '') === id);
  return found?.file ?? `campaigns/${id}.yaml`;
}
