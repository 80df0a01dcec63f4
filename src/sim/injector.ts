// What a kubelet and the injector image do with a Faultline injector (an ephemeral container whose
// argv is ['/bin/sh', '-c', SCRIPT, 'faultline', MODE, NOT_AFTER, DURATION, ...]): it waits
// (ContainerCreating), runs, writes its result file ("applied"), and terminates with exit code and
// termination message ("reverted" after its duration or an abort). Tests can make an injector fail,
// start late or never, or make an app ignore SIGTERM, through `behave`.
import { CONTAINER_KILL_SCRIPT } from '../faults/container-kill/driver.js';

export interface InjectorBehaviour {
  /** Delay from added to running (default: the simulator's readyDelayMs). */
  startDelayMs?: number;
  /** Stay waiting (e.g. ImagePullBackOff) for ever. */
  neverStart?: { reason: string; message: string };
  /** Fail to apply: exit 3 with "failed: <this>" as the termination message. */
  fail?: string;
  /** container-kill: the app ignores SIGTERM (no restart). */
  ignoreTerm?: boolean;
}

export type InjectorHook = (pod: { namespace: string; name: string }, container: string) => InjectorBehaviour | undefined;

export interface InjectorCommand {
  mode: 'apply' | 'clean';
  durationS: number;
  kill: boolean;
}

/** The Faultline protocol part of an ephemeral container's argv, or undefined for other containers. */
export function injectorCommand(cmd: readonly string[] | undefined): InjectorCommand | undefined {
  if (!cmd || cmd[1] !== '-c' || cmd[3] !== 'faultline') return undefined;
  const mode = cmd[4];
  if (mode !== 'apply' && mode !== 'clean') return undefined;
  return { mode, durationS: Number(cmd[6] ?? 0), kill: cmd[2] === CONTAINER_KILL_SCRIPT };
}

export class InjectorSim {
  private hook?: InjectorHook;
  /** The result file of each injector (key: pod uid/container). */
  readonly results = new Map<string, string>();

  behave(hook: InjectorHook | undefined): void {
    this.hook = hook;
  }

  behaviour(pod: { namespace: string; name: string }, container: string): InjectorBehaviour {
    return this.hook?.(pod, container) ?? {};
  }
}
