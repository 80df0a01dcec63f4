// The Git hosts Faultline speaks to, defined once; every other list of hosts derives from it.
export const HOST_KINDS = ['github', 'gitlab', 'gitea'] as const;
export type HostKind = (typeof HOST_KINDS)[number];
