// A Git host that exists only in the tests: the whole host in one folder, as a real one would be
// in src/hosts/<kind>/. Its webhook signs with X-Fake-Signature (hex HMAC-SHA256 of the body), its
// pull requests' heads live under refs/changes/<n>/head, and its API has three plain endpoints.
import { createHmac } from 'node:crypto';
import type { CommitStatus, GitHost, GitHostConfig, HostModule, UpsertResult } from '../../../src/hosts/index.js';
import { sameName } from '../../../src/hosts/index.js';
import { hmacHexMatches } from '../../../src/hosts/signature.js';
import { requestJson } from '../../../src/hosts/retry.js';
import { responseCheck } from '../../../src/hosts/response.js';
import { githubLikePullRequest, header, obj, pushEvent, str, type Normalised } from '../../../src/hosts/webhook.js';

export const signFake = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');

function normalise(event: string | undefined, deliveryId: string, payload: unknown): Normalised {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', reason: 'payload is not a JSON object' };
  if (event === 'push') return pushEvent('fake', deliveryId, p, str(obj(p.repository)?.full_name), obj(p.repository));
  if (event === 'change') return githubLikePullRequest('fake', deliveryId, p);
  return { kind: 'ignored', reason: 'event' };
}

const checkComments = responseCheck<{ id: number; body: string; author: string }[]>('fake', 'GET /changes/{n}/comments', {
  type: 'array',
  items: { type: 'object', required: ['id', 'body', 'author'], properties: { id: { type: 'integer' }, body: { type: 'string' }, author: { type: 'string' } } },
});
const checkCreated = responseCheck<{ id: number }>('fake', 'POST /changes/{n}/comments', { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } });

class FakeApi implements GitHost {
  readonly kind = 'fake';
  readonly maxCommentLength = 10_000;
  constructor(private readonly config: GitHostConfig) {}
  private req(method: string, path: string, body?: unknown) {
    return requestJson(`${this.config.apiUrl}${path}`, { method, headers: {}, body, host: 'fake', endpoint: `${method} ${path}` }, { attempts: 1 });
  }
  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.req('POST', `/status/${sha}`, { context: status.context, state: status.state, description: status.description });
  }
  async upsertComment(n: number, marker: string, body: string, opts: { createIfMissing?: boolean } = {}): Promise<UpsertResult> {
    const mine = checkComments((await this.req('GET', `/changes/${n}/comments`)).data).find((c) => c.author === 'faultline' && c.body.includes(marker));
    if (mine) {
      if (mine.body === body) return { action: 'unchanged', id: String(mine.id) };
      await this.req('PATCH', `/comments/${mine.id}`, { body });
      return { action: 'updated', id: String(mine.id) };
    }
    if (opts.createIfMissing === false) return { action: 'skipped' };
    return { action: 'created', id: String(checkCreated((await this.req('POST', `/changes/${n}/comments`, { body })).data).id) };
  }
  async comment(n: number, body: string): Promise<void> {
    await this.req('POST', `/changes/${n}/comments`, { body });
  }
  async findPullRequestForCommit(): Promise<number | undefined> {
    return undefined;
  }
}

export const fake: HostModule<'fake'> = {
  kind: 'fake',
  webhook: {
    kind: 'fake',
    verify: (body, headers, secrets) => hmacHexMatches(body, header(headers, 'x-fake-signature'), secrets),
    event: (headers) => header(headers, 'x-fake-event'),
    delivery: (headers) => header(headers, 'x-fake-delivery'),
    normalise,
  },
  pullRequestRef: (n) => `refs/changes/${n}/head`,
  isRepository: (configured, refs) => sameName(configured, refs.repository),
  createApi: (config) => new FakeApi(config),
};
