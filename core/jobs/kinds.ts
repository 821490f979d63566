/**
 * The job kinds an engine worker runs, each with what it is started with. The service starts
 * them, the worker entries read them; both sides import the types from here.
 */
import type { BackendChoiceName } from '../api/contract.js';

/** What the train worker is started with. */
export interface TrainJobParams {
  runId: number;
  /** Overrides the run's backend for this session (resume on another device). */
  backend?: BackendChoiceName;
  /** Continue on a fresh random stream numbered this (after a divergence; a branch). */
  reseed?: number;
}
