// An importer turns a foreign experiment document into a native one, and says where each
// native field came from so problems still point at the right line of the original file.

export interface ImportProblem {
  pointer: string; // into the source document
  message: string;
  key?: boolean;
}

export interface ImportResult {
  /** The native-shaped document; absent when nothing sensible could be built. */
  experiment?: unknown;
  /** [native pointer prefix, source pointer]; the longest matching prefix wins. */
  pointerMap: [string, string][];
  problems: ImportProblem[];
  /** A definition other documents refer to (a Litmus ChaosExperiment): no experiment, no problem. */
  definition?: true;
  /** What the importer assumed (a default it applied, a bound it chose), for the imported file's comment. */
  notes?: string[];
}

export interface Importer {
  /** e.g. 'chaos.io/v1 ChaosExperiment' */
  describe(doc: Record<string, unknown>): string;
  /** Formats without apiVersion/kind (Chaos Toolkit) are recognised by their shape. */
  matches(apiVersion: unknown, kind: unknown, doc: Record<string, unknown>): boolean;
  import(doc: Record<string, unknown>, ctx: ImportContext): ImportResult;
}

/** Documents of the same load that an importer may refer to (a ChaosEngine's ChaosExperiment). */
export interface ImportContext {
  related(apiVersion: string, kind: string, name: string): Record<string, unknown> | undefined;
  /** Environment values the user gave explicitly (never the controller's own environment). */
  env: Record<string, string>;
}
