// The fields Faultline reads from Gitea/Forgejo /api/v1 answers.
import { responseCheck } from '../response.js';

export interface GiteaComment {
  id: number;
  body: string;
  user: { id: number } | null;
}
export const checkComments = responseCheck<GiteaComment[]>('gitea', 'GET /repos/{owner}/{repo}/issues/{index}/comments', {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'body', 'user'],
    properties: {
      id: { type: 'integer', minimum: 1 },
      body: { type: 'string' },
      user: { type: 'object', nullable: true, required: ['id'], properties: { id: { type: 'integer' } } },
    },
  },
});
export const checkCreatedComment = responseCheck<{ id: number }>('gitea', 'POST /repos/{owner}/{repo}/issues/{index}/comments', {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
});
export const checkUser = responseCheck<{ id: number }>('gitea', 'GET /user', {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer' } },
});
export const checkPullForCommit = responseCheck<{ number: number }>('gitea', 'GET /repos/{owner}/{repo}/commits/{sha}/pull', {
  type: 'object',
  required: ['number'],
  properties: { number: { type: 'integer', minimum: 1 } },
});
