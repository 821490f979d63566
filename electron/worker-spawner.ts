/**
 * Engine workers in Electron's utility processes. child_process.fork of the app's own binary
 * needs the RunAsNode fuse; with it off (a hardened build), workers still start here, through
 * `utilityProcess.fork`. Everything else — resolving the entry, the channel the worker talks on
 * (`process.parentPort`), stderr for death descriptions, closing — is core/jobs/spawn.ts's
 * `utilitySpawner` and core/jobs/channel.ts, tested on forked processes.
 */
import { utilityProcess } from 'electron';
import { setWorkerSpawner, utilitySpawner } from '../core/jobs/spawn.js';

/** From now on every engine worker (jobs, the sampling worker, the backend probe) is a utility process. Call after `app.whenReady()`. */
export function installUtilityProcessSpawner(): void {
  setWorkerSpawner(utilitySpawner((modulePath, args, options) => utilityProcess.fork(modulePath, args, options)));
}
