// container-kill: SIGTERM to one container's main process from an injector in its PID namespace.
import { defineFault } from '../definition.js';
import { DNS1123_LABEL_PATTERN, obj } from '../schema-parts.js';

export const containerKill = defineFault({
  type: 'container-kill',
  scope: 'pods',
  description: 'Sends SIGTERM to one container\'s main process in each selected pod; the run checks that the kubelet restarted it.',
  docs: 'an ephemeral container sends SIGTERM to the container\'s main process; the run succeeds only if the pod status shows it restarted (`signal: SIGKILL` is refused by `validate`: the kernel drops it when sent from inside the pod)',
  // KILL: the app usually runs as another user. Root: non-root gets no added capability.
  injector: { capabilities: ['KILL'], runAsUser: 0, podSecurity: 'baseline' },
  paramsSchema: obj(
    {
      container: { type: 'string', maxLength: 63, pattern: DNS1123_LABEL_PATTERN },
      signal: { enum: ['SIGTERM', 'SIGKILL'], default: 'SIGTERM' },
    },
    ['container'],
  ),
  checkParams: (params) => params.signal === 'SIGKILL'
    ? [{ pointer: '/signal', message: 'SIGKILL cannot be delivered from inside the pod: the kernel drops SIGKILL sent to a PID namespace\'s init (the container\'s main process) by a process in that namespace; use SIGTERM, or pod-kill' }]
    : [],
  // A killed container restarts inside the same pod: nothing to wait out before recovery counts.
  instant: { replacesPods: false },
  driver: async () => (await import('./driver.js')).containerKill,
});
