// The fields Faultline reads from GitHub's answers (Octokit types them but checks nothing).
import type { SchemaObject } from 'ajv';
import { responseCheck } from '../response.js';

export interface GitHubComment {
  id: number;
  body?: string | null;
  user: { login: string } | null;
  performed_via_github_app?: { id: number } | null;
}
const comment: SchemaObject = {
  type: 'object',
  required: ['id', 'user'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    body: { type: 'string', nullable: true },
    user: { type: 'object', nullable: true, required: ['login'], properties: { login: { type: 'string', minLength: 1 } } },
    performed_via_github_app: { type: 'object', nullable: true, required: ['id'], properties: { id: { type: 'integer' } } },
  },
};

export const checkComments = responseCheck<GitHubComment[]>('github', 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { type: 'array', items: comment });
export const checkCreatedComment = responseCheck<{ id: number }>('github', 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
});
export const checkUser = responseCheck<{ login: string }>('github', 'GET /user', {
  type: 'object',
  required: ['login'],
  properties: { login: { type: 'string', minLength: 1 } },
});
export const checkApp = responseCheck<{ slug: string }>('github', 'GET /app', {
  type: 'object',
  required: ['slug'],
  properties: { slug: { type: 'string', minLength: 1 } },
});

export interface GitHubPullForCommit {
  number: number;
  merged_at?: string | null;
}
export const checkPullsForCommit = responseCheck<GitHubPullForCommit[]>('github', 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
  type: 'array',
  items: {
    type: 'object',
    required: ['number'],
    properties: { number: { type: 'integer', minimum: 1 }, merged_at: { type: 'string', nullable: true } },
  },
});

export interface GitHubCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  app?: { id: number } | null;
}
export const checkCheckRuns = responseCheck<{ check_runs: GitHubCheckRun[] }>('github', 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
  type: 'object',
  required: ['check_runs'],
  properties: {
    check_runs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'head_sha', 'status'],
        properties: {
          id: { type: 'integer', minimum: 1 },
          name: { type: 'string' },
          head_sha: { type: 'string' },
          status: { type: 'string' },
          app: { type: 'object', nullable: true, required: ['id'], properties: { id: { type: 'integer' } } },
        },
      },
    },
  },
});
export const checkCreatedCheckRun = responseCheck<{ id: number }>('github', 'POST /repos/{owner}/{repo}/check-runs', {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
});
