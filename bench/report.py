"""Reads the RESULT lines of one bench/run.sh run and prints the table and the RATIO lines."""

import sys

# The HTTP measurements need the management API routes; until bench/http.sh fills them they print n/a.
HTTP_RATIOS = (("http_transfer_vs_plain_django", "http_transfer", "plain_http_transfer"),
               ("timestamp_vs_bare_jwt_view", "http_timestamp", "plain_http_timestamp"))


def main(path: str) -> None:
    results: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for line in open(path):
        if line.startswith("RESULT "):
            _, name, mode, median, *runs = line.split()
            results[(name, mode)] = (float(median), runs)

    def figure(name, mode):
        return results.get((name, mode), (None, []))[0]

    names = sorted({name for name, _ in results}, key=lambda n: (n != "pgbench", n != "ledger", n))
    print(f"{'system':<24}{'sequential/s':>14}{'8 processes/s':>16}   runs (8 processes)")
    for name in names:
        seq, par = figure(name, "seq"), figure(name, "par")
        runs = " ".join(results.get((name, "par"), (0, []))[1])
        print(f"{name:<24}{(f'{seq:.1f}' if seq else '-'):>14}{(f'{par:.1f}' if par else '-'):>16}   {runs}")

    def ratio(a, b):
        return f"{a / b:.2f}" if a and b else "n/a"

    print(f"RATIO ledger_vs_hordak={ratio(figure('ledger', 'par'), figure('hordak', 'par'))}")
    print(f"RATIO ledger_vs_pgbench={ratio(figure('ledger', 'par'), figure('pgbench', 'par'))}")
    for label, ours, peer in HTTP_RATIOS:
        print(f"RATIO {label}={ratio(figure(ours, 'par'), figure(peer, 'par'))}")


if __name__ == "__main__":
    main(sys.argv[1])
