// What the Git source hands to the rest of the controller after each fetch.

export interface SourceFile {
  path: string; // repository-relative, '/' separated
  oid: string; // blob id
  content: Uint8Array;
}

export interface SourceSnapshot {
  revision: string; // commit sha of the tracked branch head
  previousRevision?: string; // the revision the diff was taken against (absent on first load)
  files: Map<string, string>; // every path matching the globs → blob oid
  changed: SourceFile[]; // added or modified since previousRevision (all files on first load)
  deleted: string[]; // paths gone since previousRevision
  freeze: boolean; // `.faultline/freeze` exists at this revision (the Git kill switch)
  stats?: SyncStats; // where the time went (metrics, bench)
}

export interface SyncStats {
  remoteMs: number; // asking the server for the branch head (info/refs)
  fetchMs: number; // downloading and indexing the pack (0 when the head was already local)
  diffMs: number; // tree walk / diff by tree ids
  readMs: number; // reading the changed blobs
  treesRead: number;
  blobsRead: number;
}

export interface GitSource {
  /** Fetch the branch and diff against the last synced revision. Keeps the last good state on failure. */
  sync(): Promise<SourceSnapshot>;
  /** Read every matching file at a revision (the pull-request path uses the PR head). */
  readAll(ref: string): Promise<{ revision: string; files: SourceFile[]; freeze: boolean }>;
  readonly lastRevision: string | undefined;
}
