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

# Distinguishable colours, one a mode, in the order of the blocks (`latency_pingpong --list`, then
# dds). The dash says what a line is: run_sweep.sh passes `dashes`, one word a block (1 axon,
# solid; 2 raw baselines, dashed; 4 decomposition core-*, dash-dot; 3 peers and dds, dotted).
array colours[24] = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", \
                     "#a6761d", "#666666", "#1f78b4", "#b2182b", "#000000", "#80cdc1", \
                     "#8c510a", "#c51b7d", "#4d9221", "#2166ac", "#fdb863", "#542788", \
                     "#35978f", "#f46d43", "#878787", "#fee08b", "#3288bd", "#9e0142"]
if (!exists("dashes")) dashes = ""

stats datafile using 1:2 nooutput
blocks = STATS_blocks
dash(i) = (words(dashes) > i) ? int(word(dashes, i + 1)) : 1

plot for [i=0:blocks-1] datafile index i using 1:2 with linespoints lw 2 pt 7 ps 0.8 \
     lc rgb colours[(i % 24) + 1] dt dash(i) title columnheader(1)
