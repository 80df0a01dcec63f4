// Readiness probe for the repository: one info/refs request. Resolves true or throws a SourceError.
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { toSourceError } from './errors.js';

export async function isReachable(url: string, token?: string, username = 'x-access-token'): Promise<true> {
  const auth = token ? { username, password: token } : undefined;
  try {
    await git.getRemoteInfo2({ http, url, protocolVersion: 1, onAuth: () => auth ?? { cancel: true } });
    return true;
  } catch (err) {
    throw toSourceError(err, 'reach repository', url);
  }
}
