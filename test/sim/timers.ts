/**
 * Named timers per node on simulated time, the edge that pure state machines ask for: setting a
 * timer replaces the one of the same name, and a crash clears all of a node's timers.
 */
import type { Simulation } from './simulation.js';

/** Timers keyed by (node, name). */
export class SimTimers<Id extends string | number, Name extends string> {
  private readonly handles = new Map<Id, Map<Name, number>>();

  constructor(private readonly sim: Simulation) {}

  /** Runs `fire` after `delayMs` unless replaced or cleared first. */
  set(node: Id, name: Name, delayMs: number, fire: () => void): void {
    this.cancel(node, name);
    const timers = this.handles.get(node) ?? new Map<Name, number>();
    this.handles.set(node, timers);
    const handle = this.sim.schedule(Math.max(0, delayMs), () => {
      timers.delete(name);
      fire();
    });
    timers.set(name, handle);
  }

  /** Cancels one timer. */
  cancel(node: Id, name: Name): void {
    const handle = this.handles.get(node)?.get(name);
    if (handle === undefined) return;
    this.sim.cancel(handle);
    this.handles.get(node)?.delete(name);
  }

  /** Cancels every timer of `node` (it crashed). */
  clear(node: Id): void {
    for (const handle of this.handles.get(node)?.values() ?? []) this.sim.cancel(handle);
    this.handles.delete(node);
  }

  /** Names of the timers `node` has pending. */
  pending(node: Id): Name[] {
    return [...(this.handles.get(node)?.keys() ?? [])];
  }
}
