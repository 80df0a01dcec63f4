// Discovery documents: enough for kubectl and client-node to find every served resource.
import { verbsOf, type ResourceTable } from './resources.js';

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(g: { name: string; versions: string[] }): object {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(table: ResourceTable): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: table.groups().map(groupDoc) };
}

export function apiGroup(table: ResourceTable, name: string): object | undefined {
  const g = table.groups().find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) } : undefined;
}

export function apiResourceList(table: ResourceTable, group: string, version: string): object | undefined {
  const defs = table.all().filter((r) => r.group === group && r.versions.includes(version));
  if (!defs.length) return undefined;
  const resources: object[] = [];
  for (const r of defs) {
    resources.push({ name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r), ...(r.shortNames ? { shortNames: r.shortNames } : {}), ...(r.custom?.categories.length ? { categories: r.custom.categories } : {}) });
    if (r.status) resources.push({ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    for (const s of r.subresources ?? []) {
      resources.push({ name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs, ...(s.group ? { group: s.group, version: s.version } : {}) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export const VERSION_INFO = {
  major: '1', minor: '32', gitVersion: 'v1.32.0-faultline-sim', gitCommit: 'sim', gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z', goVersion: 'n/a', compiler: 'n/a', platform: 'linux/amd64',
};
