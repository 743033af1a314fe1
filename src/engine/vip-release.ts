// During the balance wave: which old holders let a moved VIP go (see vip-handover.ts). An old
// director's run says so as soon as its removal's section ended well, a new holder's second exec
// waits on it, and once an old director's balance is over (done, failed, or never run) every VIP
// it had not let go by then stays unreleased for good.

interface Release {
  readonly released: Promise<boolean>;
  readonly settle: (released: boolean) => void;
}

export class VipReleases {
  private readonly releases = new Map<string, Map<string, Release>>();
  private readonly closed = new Set<string>();

  /** Resolves true once `host` let `address` go in this wave, false once it is known it did not. */
  released(host: string, address: string): Promise<boolean> {
    return this.release(host, address).released;
  }

  /** `host`'s removal of `address` ended well. */
  let(host: string, address: string): void {
    this.release(host, address).settle(true);
  }

  /** `host` takes no further part in the wave: what it did not let go, it keeps. */
  close(host: string): void {
    this.closed.add(host);
    for (const release of this.releases.get(host)?.values() ?? []) release.settle(false);
  }

  private release(host: string, address: string): Release {
    const vips = this.releases.get(host) ?? new Map<string, Release>();
    this.releases.set(host, vips);
    let release = vips.get(address);
    if (release === undefined) {
      let settle: (released: boolean) => void = () => undefined;
      const released = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      release = { released, settle };
      vips.set(address, release);
      if (this.closed.has(host)) settle(false);
    }
    return release;
  }
}
