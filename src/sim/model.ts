/**
 * The service model of `gru simulate`, one second at a time. Pure: randomness comes from the
 * injected {@link Prng}.
 *
 * - Requests arrive at the trace's rate λ (requests per second) and need an exponentially
 *   distributed service time of mean S seconds; every instance serves `capacity` requests at
 *   once, and the load is spread evenly over the running instances (n of them), so each one is
 *   an M/M/c queue (c = capacity) with utilization ρ = λ·S / (n·c).
 * - **Modelled response time** of a second: while ρ < 1 the M/M/c mean response time
 *   (Erlang C: S + C(c, λS/n)·S / (c − λS/n); for c = 1 that is S / (1 − ρ)), plus the time
 *   to clear any backlog left by an earlier overload; at ρ ≥ 1, or with no running instance,
 *   it is infinite. A second whose modelled response time exceeds MAX_RESP_TIME is an SLO
 *   violation second (a second without arrivals never is).
 * - **Backlog**: work (in server-seconds) offered beyond the capacity of a second is carried
 *   to the next one (a fluid queue: λ·S arrives, at most n·c is served).
 * - **What the agents measure** (`cpu_avg`): the busy fraction of the running instances. With
 *   `measurement: "sampled"` it comes from the work that actually arrived (Poisson arrivals,
 *   exponential service times, drawn from the seeded workload stream) served by the same
 *   fluid queue, so a real agent's scatter around the mean shows; `"exact"` uses the model's
 *   busy fraction (λ·S served up to n·c per second) as is.
 *
 * @module
 */

import type { Prng } from "../domain/random.ts";

/** The modelled service. */
export interface ServiceModel {
  /** Mean service time S, seconds. */
  serviceTime: number;
  /** Requests an instance serves at once (c). */
  capacity: number;
  /** Seconds between a container start and its first served request. */
  startup: number;
  /** The SLO: MAX_RESP_TIME, seconds. */
  maxResponseTime: number;
  /** How the agents' CPU figures come about (see the module documentation). */
  measurement: "sampled" | "exact";
}

/** The state carried from one second to the next. */
export interface ModelState {
  /** Work not yet served, server-seconds. */
  backlog: number;
  /** Work of the sampled workload not yet served, server-seconds. */
  sampledBacklog: number;
}

/** What one second gives. */
export interface SecondOutcome {
  /** Busy fraction of the running instances, in [0, 1] (0 without an instance). */
  utilization: number;
  /** What the agents measure for this second, in [0, 1]. */
  measured: number;
  /** Modelled mean response time, seconds (Infinity when unstable or no instance runs). */
  responseTime: number;
  /** Whether the second violates the SLO. */
  violation: boolean;
}

/**
 * Mean response time of an M/M/c queue with offered load `a` = λ·S Erlangs (must be < c).
 *
 * @param a Offered load, Erlangs.
 * @param c Servers.
 * @param s Mean service time.
 * @returns S + Erlang C · S / (c − a).
 */
export function mmcResponseTime(a: number, c: number, s: number): number {
  if (!(a < c)) return Infinity;
  if (a <= 0) return s;
  // Σ_{k<c} a^k/k! and a^c/c!, built up term by term (no factorial overflow for small c).
  let term = 1;
  let sum = 0;
  for (let k = 0; k < c; k++) {
    sum += term;
    term = term * a / (k + 1);
  }
  const tail = term * c / (c - a);
  const erlangC = tail / (sum + tail);
  return s + erlangC * s / (c - a);
}

/**
 * Advances the model by one second.
 *
 * @param model The service.
 * @param state The backlog (updated in place).
 * @param rps The arrival rate of this second.
 * @param running Instances serving this second.
 * @param sampledWork Work that arrived this second in the sampled workload, server-seconds.
 */
export function stepSecond(
  model: ServiceModel,
  state: ModelState,
  rps: number,
  running: number,
  sampledWork: number,
): SecondOutcome {
  const cap = running * model.capacity;
  const work = rps * model.serviceTime;
  const offered = state.backlog + work;
  const served = Math.min(cap, offered);
  state.backlog = offered - served;
  const utilization = cap > 0 ? served / cap : 0;
  const sampledOffered = state.sampledBacklog + sampledWork;
  const sampledServed = Math.min(cap, sampledOffered);
  state.sampledBacklog = sampledOffered - sampledServed;
  const measured = model.measurement === "exact" ? utilization : cap > 0 ? sampledServed / cap : 0;
  let responseTime = Infinity;
  if (running > 0) {
    const queued = state.backlog / cap;
    responseTime = mmcResponseTime(work / running, model.capacity, model.serviceTime) + queued;
  }
  return {
    utilization,
    measured,
    responseTime,
    violation: rps > 0 && responseTime > model.maxResponseTime,
  };
}

/** Above this rate a second's work is drawn from a normal approximation instead of request by request. */
const EXACT_DRAWS_UP_TO = 200;

/**
 * The work (server-seconds) that arrives in each second of a trace: Poisson arrivals at the
 * second's rate, each with an exponential service time of mean `serviceTime`. Above
 * {@link EXACT_DRAWS_UP_TO} requests per second, a normal draw with the same mean and variance
 * (λ·S and 2·λ·S²) stands in for the individual requests.
 *
 * @param rps The trace.
 * @param serviceTime Mean service time.
 * @param prng The workload's random stream.
 * @returns One figure per second.
 */
export function sampleWork(rps: readonly number[], serviceTime: number, prng: Prng): number[] {
  const out: number[] = [];
  for (const rate of rps) {
    if (rate <= 0) {
      out.push(0);
      continue;
    }
    if (rate > EXACT_DRAWS_UP_TO) {
      const mean = rate * serviceTime;
      const sd = Math.sqrt(2 * rate) * serviceTime;
      const u1 = 1 - prng();
      const u2 = prng();
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      out.push(Math.max(0, mean + sd * z));
      continue;
    }
    let work = 0;
    let t = -Math.log(1 - prng()) / rate;
    while (t < 1) {
      work += -Math.log(1 - prng()) * serviceTime;
      t += -Math.log(1 - prng()) / rate;
    }
    out.push(work);
  }
  return out;
}
