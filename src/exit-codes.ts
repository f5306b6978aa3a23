/** Exit statuses of `desktop-streamer` (sysexits.h). */
export const EXIT = { ok: 0, failed: 70, unavailable: 69, config: 78 } as const;
