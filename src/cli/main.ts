import { Command } from 'commander';
import { register as validate } from './validate.js';
import { register as run } from './run.js';
import { register as status } from './status.js';
import { register as plan } from './plan.js';
import { register as demo } from './demo.js';
import { register as sim } from './sim.js';
import { register as abort } from './abort.js';

const program = new Command('faultline')
  .description('GitOps controller for chaos engineering on Kubernetes')
  .version('0.1.0');
for (const add of [validate, plan, run, status, abort, demo, sim]) add(program);
await program.parseAsync(process.argv);
