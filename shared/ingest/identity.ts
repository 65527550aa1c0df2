import { emptyState } from '../engagement/state.ts';
import {
  getProfile,
  getProfiles,
  type LiveProfile,
  type Merge,
  type StoredProfile,
  VersionConflictError,
  writeMerge,
} from '../store/profiles.ts';
import { partitionHasEvents } from '../store/timeline.ts';

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
 * Merge the profile of `fromId` into the profile of `intoId`, returning the surviving profile's id
 * when anything changed. `known` holds profiles the caller has just read; a stale one only costs a
 * retry. With `onlyIfUnlinked`, `fromId` is merged only while it is still a profile of its own:
 * once it belongs to someone, it stays there. That is how a visitor is linked to a customer: an
 * anonymous id on a shared device stays with the customer it joined first.
 */
export async function mergeProfiles(
  fromId: string,
  intoId: string,
  known?: ReadonlyMap<string, ResolvedProfile>,
  options: { onlyIfUnlinked?: boolean } = {},
): Promise<string | undefined> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const read = attempt === 0 ? known : undefined;
    const from = read?.get(fromId) ?? (await resolveProfile(fromId));
    const into = read?.get(intoId) ?? (await resolveProfile(intoId));
    const merge = await planMerge(fromId, from, into, options);
    if (!merge) return undefined;
    try {
      await writeMerge(merge);
      return into.id;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  throw new Error(`could not merge profile ${fromId} into ${intoId}: too many concurrent updates`);
}

/**
 * The merge of the profile `fromId` resolved to (`from`) into `into`, as read; none when they are
 * one already, or when `onlyIfUnlinked` and `fromId` belongs to someone. The survivor's state is not
 * recomputed here: its new members are not yet among its folded members, so its next fold replays
 * (see planFold), whether or not this process lives to do it, unless the survivor can start from
 * what is known (see adoptedState).
 */
export async function planMerge(
  fromId: string,
  from: ResolvedProfile,
  into: ResolvedProfile,
  options: { onlyIfUnlinked?: boolean } = {},
): Promise<Merge | undefined> {
  if (options.onlyIfUnlinked && from.id !== fromId) return undefined;
  if (from.id === into.id) return undefined;
  const members = [
    ...new Set([...(into.profile?.members ?? [into.id]), ...(from.profile?.members ?? [from.id])]),
  ].sort();
  const pending = {
    events: [...(into.profile?.outbox.events ?? []), ...(from.profile?.outbox.events ?? [])],
  };
  const adopted = await adoptedState(into, from);
  return {
    survivor: {
      id: into.id,
      members,
      foldedMembers: adopted?.foldedMembers ?? into.profile?.foldedMembers ?? [],
      state: adopted?.state ?? into.profile?.state ?? emptyState(into.id),
      outbox: pending,
      indexed: into.profile?.indexed ?? [],
      expectedVersion: into.profile?.version ?? 0,
    },
    merged: {
      id: from.id,
      mergedInto: into.id,
      expectedVersion: from.profile?.version ?? 0,
      indexed: from.profile?.indexed ?? [],
    },
  };
}

/**
 * What a survivor without a profile of its own starts from, where that is known without a replay:
 * - Neither side has a profile (a visitor's first events and their sign-up in one batch): nothing of
 *   either id is folded yet, so the survivor starts empty with both members folded, and the batch folds
 *   the events it holds on top.
 * - The merged side has one and the survivor has no events either (a visitor signing up under a new
 *   userId): the survivor takes the merged state as it is. The fold does not depend on the id, so this
 *   is what a replay would give, and the merged history's lifecycle events are not published again
 *   under the new id.
 *
 * Events of either id that another batch is storing meanwhile still count: that batch writes on the
 * version it read, fails on the merge and replays. A batch that died after storing its events delivers
 * them again, as duplicates, which replay too. In any other case the survivor's next fold replays the
 * members not folded yet.
 */
async function adoptedState(
  into: ResolvedProfile,
  from: ResolvedProfile,
): Promise<{ state: LiveProfile['state']; foldedMembers: string[] } | undefined> {
  if (into.profile) return undefined;
  if (!from.profile) return { state: emptyState(into.id), foldedMembers: [from.id, into.id].sort() };
  if (await partitionHasEvents(into.id)) return undefined;
  return {
    state: { ...from.profile.state, customerId: into.id },
    foldedMembers: [...new Set([...from.profile.foldedMembers, into.id])].sort(),
  };
}
