# Median round-trip latency against payload size, one line per mode, log-log.
#   gnuplot -e "datafile='bench/results/latency.dat'; outfile='bench/results/latency.png'" bench/plot.gp
# latency.dat (written by bench/run_sweep.sh) holds one block per mode: a quoted title line, then
# "size_bytes median_ns" rows; blocks are separated by two blank lines.
if (!exists("datafile")) datafile = 'bench/results/latency.dat'
if (!exists("outfile")) outfile = 'bench/results/latency.png'

set terminal pngcairo size 1200,750 noenhanced font ",10"
set output outfile
set title "axon round trip between two processes (median; lower is better)"
set xlabel "payload size [bytes]"
set ylabel "round-trip latency [ns]"
set logscale xy
set format x "%.0s%cB"
set xtics ("8 B" 8, "1 KiB" 1024, "64 KiB" 65536, "1 MiB" 1048576, "4 MiB" 4194304)
set grid xtics ytics mytics
set key outside right top
set xrange [6:6e6]

# Fourteen distinguishable colours, so that no two modes share one. Blocks come in the order of
# `latency_pingpong --list`: axon's four modes (solid), the five raw baselines (dashed), the two
# decomposition modes (dash-dot), then the peers (dotted).
array colours[14] = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", \
                     "#a6761d", "#666666", "#1f78b4", "#b2182b", "#000000", "#80cdc1", \
                     "#8c510a", "#c51b7d"]
do for [i=1:14] {
  dash = i <= 4 ? 1 : (i <= 9 ? 2 : (i <= 11 ? 4 : 3))
  set linetype i linecolor rgb colours[i] dashtype dash
}

stats datafile using 1:2 nooutput
blocks = STATS_blocks

plot for [i=0:blocks-1] datafile index i using 1:2 with linespoints lw 2 pt 7 ps 0.8 \
     title columnheader(1)
