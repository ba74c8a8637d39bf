"""Run every benchmark: ``python -m benchmarks.run``."""

from benchmarks import bench_chain, bench_mlp, bench_nn

if __name__ == "__main__":
    bench_chain.main()
    bench_mlp.main()
    bench_nn.main()
