// GitSource.readAll's contract for tests: a real Git read of any ref with isomorphic-git.
import fs from 'node:fs';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { SourceFile } from '../../src/source/types.js';

export function gitReader(url: string, gitdir: string) {
  let ready: Promise<void> | undefined;
  return {
    async readAll(ref: string): Promise<{ revision: string; files: SourceFile[]; freeze: boolean }> {
      ready ??= git.init({ fs, gitdir, bare: true }).then(() => git.addRemote({ fs, gitdir, remote: 'origin', url, force: true }));
      await ready;
      await git.fetch({ fs, http, gitdir, remote: 'origin', singleBranch: false, tags: false });
      const revision = /^[0-9a-f]{40}$/.test(ref) ? ref : await git.resolveRef({ fs, gitdir, ref: `refs/remotes/origin/${ref}` });
      const files: SourceFile[] = [];
      let freeze = false;
      const walk = async (tree: string, prefix: string): Promise<void> => {
        for (const e of (await git.readTree({ fs, gitdir, oid: tree })).tree) {
          const path = `${prefix}${e.path}`;
          if (e.type === 'tree') await walk(e.oid, `${path}/`);
          else if (path === '.faultline/freeze') freeze = true;
          else if (/^experiments\/.*\.ya?ml$/.test(path)) files.push({ path, oid: e.oid, content: (await git.readBlob({ fs, gitdir, oid: e.oid })).blob });
        }
      };
      const { commit } = await git.readCommit({ fs, gitdir, oid: revision });
      await walk(commit.tree, '');
      return { revision, files, freeze };
    },
  };
}
