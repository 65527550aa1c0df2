import { emptyState } from '../engagement/state.ts';
import {
  emptyOutbox,
  getProfile,
  getProfiles,
  type LiveProfile,
  type StoredProfile,
  VersionConflictError,
  writeLiveProfile,
  writeRedirect,
} from '../store/profiles.ts';

/**
 * Identity: which profile an id belongs to, and merging two profiles when identify or alias links
 * their ids. Merged profiles leave a redirect behind; their events stay in their own partitions and
 * are read through the surviving profile's `members`.
 */
const maxHops = 10;
const maxAttempts = 8;

export interface ResolvedProfile {
  /** The id of the live profile, or of the id itself when it has no profile yet. */
  id: string;
  profile?: LiveProfile;
}

/**
 * The profiles of many ids, with redirects followed: one batch read per hop, so that a whole queue
 * batch resolves in a round trip or two.
 */
export async function resolveProfiles(ids: Iterable<string>): Promise<Map<string, ResolvedProfile>> {
  const wanted = [...new Set(ids)];
  const stored = new Map<string, StoredProfile | undefined>();
  let unread = wanted;
  for (let hop = 0; unread.length > 0; hop++) {
    if (hop === maxHops) throw new Error(`profiles redirect more than ${maxHops} times`);
    const found = await getProfiles(unread);
    for (const id of unread) stored.set(id, found.get(id));
    const targets = [...found.values()].flatMap((profile) =>
      profile.kind === 'redirect' ? [profile.mergedInto] : [],
    );
    unread = [...new Set(targets)].filter((id) => !stored.has(id));
  }
  return new Map(wanted.map((id) => [id, follow(id, stored)]));
}

function follow(id: string, stored: Map<string, StoredProfile | undefined>): ResolvedProfile {
  let current = id;
  for (let hop = 0; hop < maxHops; hop++) {
    const profile = stored.get(current);
    if (!profile) return { id: current };
    if (profile.kind === 'live') return { id: current, profile };
    current = profile.mergedInto;
  }
  throw new Error(`profile ${id} redirects more than ${maxHops} times`);
}

export async function resolveProfile(id: string): Promise<ResolvedProfile> {
  let current = id;
  for (let hop = 0; hop < maxHops; hop++) {
    const stored = await getProfile(current);
    if (!stored) return { id: current };
    if (stored.kind === 'live') return { id: current, profile: stored };
    current = stored.mergedInto;
  }
  throw new Error(`profile ${id} redirects more than ${maxHops} times`);
}

/**
 * Link `anonymousId` to the customer `userId`. An anonymous id that already belongs to another
 * customer (a shared device) stays with the customer it joined first.
 */
export async function linkAnonymousId(
  anonymousId: string,
  userId: string,
  known?: ReadonlyMap<string, ResolvedProfile>,
): Promise<string | undefined> {
  const anonymous = known?.get(anonymousId) ?? (await resolveProfile(anonymousId));
  if (anonymous.id !== anonymousId) return undefined;
  return mergeProfiles(anonymousId, userId, known);
}

/**
 * Merge the profile of `fromId` into the profile of `intoId`, returning the surviving profile's id
 * when anything changed. `known` holds profiles the caller has just read. Its state is not recomputed here: the caller replays it afterwards.
 *
 * 1. Add the merged profile's partitions to the survivor's members.
 * 2. Turn the merged profile into a redirect.
 * The order matters: if the process dies between the steps, the survivor already reads the merged
 * events, and the redelivered message finishes the merge.
 */
export async function mergeProfiles(
  fromId: string,
  intoId: string,
  known?: ReadonlyMap<string, ResolvedProfile>,
): Promise<string | undefined> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    // Profiles the caller has just read serve the first attempt; a stale one fails its write.
    const from = (attempt === 0 && known?.get(fromId)) || (await resolveProfile(fromId));
    const into = (attempt === 0 && known?.get(intoId)) || (await resolveProfile(intoId));
    if (from.id === into.id) return undefined;
    try {
      const fromMembers = from.profile?.members ?? [from.id];
      const intoMembers = into.profile?.members ?? [into.id];
      const members = [...new Set([...intoMembers, ...fromMembers])].sort();
      if (!into.profile) {
        await writeLiveProfile({ id: into.id, members, state: emptyState(into.id), outbox: emptyOutbox }, 0);
      } else if (members.length !== intoMembers.length) {
        await writeLiveProfile({ ...into.profile, members }, into.profile.version);
      }
      await writeRedirect(from.id, into.id, from.profile?.version ?? 0);
      return into.id;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  throw new Error(`could not merge profile ${fromId} into ${intoId}: too many concurrent updates`);
}
