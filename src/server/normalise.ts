// Host payloads → host-neutral events. Only the fields Faultline uses are read; anything
// missing that matters makes the delivery `invalid` (400) rather than a half-filled event.
import type { GitHostKind, PullRequestEvent, PushCommit, PushEvent } from './types.js';

export type Normalised =
  | { kind: 'push'; event: PushEvent }
  | { kind: 'pull_request'; event: PullRequestEvent }
  | { kind: 'ping' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

type Obj = Record<string, unknown>;
const ZERO_SHA = /^0+$/;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function commitsFrom(v: unknown): PushCommit[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map(obj).filter((c): c is Obj => !!c && !!str(c.id)).map((c) => ({
    id: c.id as string,
    message: typeof c.message === 'string' ? c.message : '',
    added: strings(c.added),
    modified: strings(c.modified),
    removed: strings(c.removed),
  }));
}

/** The repository's URLs and id as a payload gives them (GitHub/Gitea `repository`, GitLab `project`). */
function repositoryRefs(repo: Obj | undefined): { repositoryUrls?: string[]; repositoryId?: string } {
  if (!repo) return {};
  const urls = ['clone_url', 'html_url', 'ssh_url', 'git_url', 'url', 'git_http_url', 'git_ssh_url', 'web_url', 'http_url', 'ssh_url']
    .map((k) => str(repo[k]))
    .filter((u): u is string => !!u);
  const id = typeof repo.id === 'number' || typeof repo.id === 'string' ? String(repo.id) : undefined;
  return { ...(urls.length ? { repositoryUrls: [...new Set(urls)] } : {}), ...(id ? { repositoryId: id } : {}) };
}

function push(host: GitHostKind, deliveryId: string, p: Obj, repository: string | undefined, repo?: Obj): Normalised {
  const ref = str(p.ref);
  const after = str(p.after);
  if (!ref || !after || !repository) return { kind: 'invalid', reason: 'push payload without ref, after or repository' };
  if (!ref.startsWith('refs/heads/')) return { kind: 'ignored', reason: 'branch' }; // tags
  const before = str(p.before);
  const commits = commitsFrom(p.commits);
  const event: PushEvent = {
    host,
    deliveryId,
    ref,
    branch: ref.slice('refs/heads/'.length),
    after,
    deleted: p.deleted === true || ZERO_SHA.test(after),
    repository,
    ...repositoryRefs(repo),
    ...(before ? { before } : {}),
    ...(commits ? { commits } : {}),
  };
  return { kind: 'push', event };
}

// GitHub and Gitea/Forgejo share the pull_request payload shape.
function githubLikePullRequest(host: 'github' | 'gitea', deliveryId: string, p: Obj): Normalised {
  const pr = obj(p.pull_request);
  const head = obj(pr?.head);
  const base = obj(pr?.base);
  const number = typeof p.number === 'number' ? p.number : pr?.number;
  const action = str(p.action);
  const headSha = str(head?.sha);
  const headRef = str(head?.ref);
  const baseRef = str(base?.ref);
  const repository = str(obj(p.repository)?.full_name);
  if (!pr || typeof number !== 'number' || !action || !headSha || !headRef || !baseRef || !repository) {
    return { kind: 'invalid', reason: 'pull_request payload without number, action, head, base or repository' };
  }
  const baseSha = str(base?.sha);
  const mergeCommitSha = str(pr.merge_commit_sha);
  const merged = pr.merged === true;
  return {
    kind: 'pull_request',
    event: {
      host,
      deliveryId,
      action: host === 'gitea' && action === 'synchronized' ? 'synchronize' : action,
      number,
      headSha,
      headRef,
      baseRef,
      merged,
      repository,
      ...repositoryRefs(obj(p.repository)),
      url: str(pr.html_url) ?? str(pr.url) ?? '',
      ...(baseSha ? { baseSha } : {}),
      ...(merged && mergeCommitSha ? { mergeCommitSha } : {}),
    },
  };
}

export function normaliseGithub(eventName: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  switch (eventName) {
    case 'ping':
      return { kind: 'ping' };
    case 'push':
      return push('github', deliveryId, p, str(obj(p.repository)?.full_name), obj(p.repository));
    case 'pull_request':
      return githubLikePullRequest('github', deliveryId, p);
    default:
      return { kind: 'ignored', reason: 'event' };
  }
}

/** Gitea and Forgejo: X-Gitea-Event / X-Forgejo-Event (`pull_request_sync` arrives as its own type on some versions). */
export function normaliseGitea(eventName: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  switch (eventName) {
    case 'push':
      return push('gitea', deliveryId, p, str(obj(p.repository)?.full_name), obj(p.repository));
    case 'pull_request':
    case 'pull_request_sync':
      return githubLikePullRequest('gitea', deliveryId, p);
    default:
      return { kind: 'ignored', reason: 'event' };
  }
}

const GITLAB_ACTIONS: Record<string, string> = { open: 'opened', reopen: 'reopened', close: 'closed', merge: 'closed' };

export function normaliseGitlab(eventName: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  const repository = str(obj(p.project)?.path_with_namespace);
  if (eventName === 'Push Hook') {
    if (p.object_kind !== 'push') return { kind: 'invalid', reason: 'Push Hook without object_kind push' };
    return push('gitlab', deliveryId, p, repository, obj(p.project));
  }
  if (eventName === 'Merge Request Hook') {
    const a = obj(p.object_attributes);
    const iid = a?.iid;
    const headSha = str(obj(a?.last_commit)?.id);
    const headRef = str(a?.source_branch);
    const baseRef = str(a?.target_branch);
    const raw = str(a?.action);
    if (!a || typeof iid !== 'number' || !headSha || !headRef || !baseRef || !repository || !raw) {
      return { kind: 'invalid', reason: 'merge request payload without iid, action, last_commit, branches or project' };
    }
    // `update` with oldrev means new commits; without it only the title/labels changed.
    const action = raw === 'update' ? (str(a.oldrev) ? 'synchronize' : 'edited') : (GITLAB_ACTIONS[raw] ?? raw);
    const merged = raw === 'merge' || a.state === 'merged';
    const mergeCommitSha = str(a.merge_commit_sha);
    return {
      kind: 'pull_request',
      event: {
        host: 'gitlab',
        deliveryId,
        action,
        number: iid,
        headSha,
        headRef,
        baseRef,
        merged,
        repository,
        ...repositoryRefs(obj(p.project)),
        url: str(a.url) ?? '',
        ...(merged && mergeCommitSha ? { mergeCommitSha } : {}),
      },
    };
  }
  return { kind: 'ignored', reason: 'event' };
}
