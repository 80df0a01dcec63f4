// The fields Faultline reads from GitLab REST v4 answers.
import { responseCheck } from '../response.js';

export interface GitLabNote {
  id: number;
  body: string;
  system?: boolean;
  author: { id: number };
}
export const checkNotes = responseCheck<GitLabNote[]>('gitlab', 'GET /projects/{id}/merge_requests/{iid}/notes', {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'body', 'author'],
    properties: {
      id: { type: 'integer', minimum: 1 },
      body: { type: 'string' },
      system: { type: 'boolean', nullable: true },
      author: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
    },
  },
});
export const checkCreatedNote = responseCheck<{ id: number }>('gitlab', 'POST /projects/{id}/merge_requests/{iid}/notes', {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
});
export const checkUser = responseCheck<{ id: number }>('gitlab', 'GET /user', {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer' } },
});
export const checkMergeRequests = responseCheck<{ iid: number; state: string }[]>('gitlab', 'GET /projects/{id}/repository/commits/{sha}/merge_requests', {
  type: 'array',
  items: { type: 'object', required: ['iid', 'state'], properties: { iid: { type: 'integer', minimum: 1 }, state: { type: 'string' } } },
});
