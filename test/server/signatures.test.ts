// Webhook authenticity: only an exact HMAC under a configured secret is accepted, and a
// malformed header is a plain refusal (false), never an exception that turns into a 500.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { giteaSignatureValid } from '../../src/hosts/gitea/signature.js';
import { githubSignatureValid, gitlabTokenValid, hmacHexMatches, signGitea, signGithub } from '../../src/server/index.js';

const body = Buffer.from('{"ref":"refs/heads/main"}');
const hex = (secret: string, b: Buffer | string = body) => createHmac('sha256', secret).update(b).digest('hex');

describe('GitHub X-Hub-Signature-256', () => {
  it('the signature of the body under the secret is accepted', () => {
    expect(githubSignatureValid(body, `sha256=${hex('s3cret')}`, ['s3cret'])).toBe(true);
    expect(githubSignatureValid(body, signGithub(body, 's3cret'), ['s3cret'])).toBe(true);
    expect(signGithub(body, 's3cret')).toBe(`sha256=${hex('s3cret')}`);
  });

  it('a signature of another body or another secret is refused', () => {
    expect(githubSignatureValid(Buffer.from('{"ref":"refs/heads/evil"}'), `sha256=${hex('s3cret')}`, ['s3cret'])).toBe(false);
    expect(githubSignatureValid(body, `sha256=${hex('other')}`, ['s3cret'])).toBe(false);
  });

  it('a sha256 HMAC under another algorithm label (sha512=, sha1=, none) is refused', () => {
    for (const label of ['sha512=', 'sha1=x', 'SHA256=', 'sha256:', '']) {
      expect(githubSignatureValid(body, `${label}${hex('s3cret')}`, ['s3cret'])).toBe(false);
    }
    expect(githubSignatureValid(body, undefined, ['s3cret'])).toBe(false);
  });

  it('a signature of the wrong length is refused without an exception', () => {
    const good = hex('s3cret');
    for (const sig of [`${good}00`, `${good}zz`, `zz${good}`, `00${good}`, good.slice(2), `${good}0`, `0${good}`, good.slice(0, 63), '', 'sha256=']) {
      expect(() => githubSignatureValid(body, `sha256=${sig}`, ['s3cret'])).not.toThrow();
      expect(githubSignatureValid(body, `sha256=${sig}`, ['s3cret'])).toBe(false);
      expect(hmacHexMatches(body, sig, ['s3cret'])).toBe(false);
    }
  });

  it('upper-case hex is the same signature', () => {
    expect(githubSignatureValid(body, `sha256=${hex('s3cret').toUpperCase()}`, ['s3cret'])).toBe(true);
  });

  it('during a secret rotation the old and the new secret are both accepted, and nothing else', () => {
    for (const s of ['old', 'new']) expect(githubSignatureValid(body, `sha256=${hex(s)}`, ['old', 'new'])).toBe(true);
    // the match may be any of the secrets, not only the last one tried
    expect(hmacHexMatches(body, hex('old'), ['old', 'new', 'newer'])).toBe(true);
    expect(hmacHexMatches(body, hex('gone'), ['old', 'new'])).toBe(false);
    expect(hmacHexMatches(body, hex('old'), [])).toBe(false);
  });
});

describe('Gitea / Forgejo X-Gitea-Signature (bare hex)', () => {
  it('the bare hex HMAC is accepted, anything else refused', () => {
    expect(signGitea(body, 'k')).toBe(hex('k'));
    expect(hmacHexMatches(body, signGitea(body, 'k'), ['k'])).toBe(true);
    expect(hmacHexMatches(body, signGitea(body, 'k'), ['other'])).toBe(false);
    expect(hmacHexMatches(body, undefined, ['k'])).toBe(false);
  });
});

describe('Gitea / Forgejo deliveries as the webhook endpoint checks them', () => {
  it('either header may carry the signature: X-Gitea-Signature or X-Forgejo-Signature', () => {
    expect(giteaSignatureValid(body, signGitea(body, 'k'), undefined, ['k'])).toBe(true);
    expect(giteaSignatureValid(body, undefined, signGitea(body, 'k'), ['k'])).toBe(true);
    // Forgejo sends both; one matching is enough
    expect(giteaSignatureValid(body, signGitea(body, 'k'), signGitea(body, 'k'), ['k'])).toBe(true);
    expect(giteaSignatureValid(body, 'f'.repeat(64), signGitea(body, 'k'), ['k'])).toBe(true);
  });

  it('no header, or headers signed with another secret, is refused', () => {
    expect(giteaSignatureValid(body, undefined, undefined, ['k'])).toBe(false);
    expect(giteaSignatureValid(body, signGitea(body, 'other'), signGitea(body, 'other'), ['k'])).toBe(false);
    expect(giteaSignatureValid(body, signGitea(body, 'k'), undefined, [])).toBe(false);
  });

  it('a Gitea signature of the wrong length, with a prefix or with junk after it is refused without an exception', () => {
    const good = signGitea(body, 'k');
    for (const bad of [`${good}00`, good.slice(0, 62), `sha256=${good}`, `${good}zz`, ` ${good}`, '']) {
      expect(() => giteaSignatureValid(body, bad, undefined, ['k']), bad).not.toThrow();
      expect(giteaSignatureValid(body, bad, undefined, ['k']), bad).toBe(false);
      expect(giteaSignatureValid(body, undefined, bad, ['k']), bad).toBe(false);
    }
  });
});

describe('GitLab X-Gitlab-Token', () => {
  it('the configured token is accepted; any other, an empty or a missing one is refused', () => {
    expect(gitlabTokenValid('tok-1', ['tok-1'])).toBe(true);
    expect(gitlabTokenValid('tok-2', ['tok-1', 'tok-2'])).toBe(true);
    expect(gitlabTokenValid('tok-1', ['tok-1', 'tok-2'])).toBe(true);
    expect(gitlabTokenValid('tok-3', ['tok-1', 'tok-2'])).toBe(false);
    expect(gitlabTokenValid('tok-1x', ['tok-1'])).toBe(false);
    expect(gitlabTokenValid('', ['tok-1'])).toBe(false);
    expect(gitlabTokenValid(undefined, ['tok-1'])).toBe(false);
    expect(gitlabTokenValid('tok-1', [])).toBe(false);
  });

  it('a token of a different length is refused without an exception', () => {
    expect(() => gitlabTokenValid('x'.repeat(10_000), ['tok-1'])).not.toThrow();
    expect(gitlabTokenValid('x'.repeat(10_000), ['tok-1'])).toBe(false);
  });
});
