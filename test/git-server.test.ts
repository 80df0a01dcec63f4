import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startGitServer, type GitServer } from './helpers/git-server.js';

const run = promisify(execFile);

describe('test git smart-HTTP server', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer({ token: 's3cret' });
  });
  afterAll(async () => server.close());

  it('accepts a push from the git CLI and serves it back over smart HTTP', async () => {
    await server.createRepo('exp');
    const work = await server.workClone('exp');
    await work.write('experiments/a.yaml', 'a: 1\n');
    const sha = await work.commitAndPush('add a');
    const { stdout } = await run('git', ['ls-remote', `http://x:s3cret@${server.url.slice(7)}/exp.git`]);
    expect(stdout).toContain(`${sha}\trefs/heads/main`);
  });

  it('refuses a fetch without the token', async () => {
    await expect(
      run('git', ['ls-remote', `${server.url}/exp.git`], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }),
    ).rejects.toThrow();
  });
});
