package dev.tikhon.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.tikhon.spark.SparkRuns.certifyRows;
import static dev.tikhon.spark.SparkRuns.tikhon;
import static dev.tikhon.spark.SparkRuns.with;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Spark standalone cluster on loopback: a master and two workers (one core each) as separate JVMs, whose
 * executors are separate JVMs again, loading libtorch and the shipped model themselves. Certifies a few images
 * through it and matches the single-machine results. Bounded in time; every process it started is stopped.
 */
class SparkStandaloneTest {
    private static final String HOST = "127.0.0.1";

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void certifiesThroughAStandaloneMasterAndTwoWorkersLikeOneMachine(@TempDir Path dir) throws Exception {
        String[] certify = {"certify", "--torchscript", SparkRuns.TORCHSCRIPT.toString(), "--data", "fashion-mnist-sample", "--method", "cohen",
                "--sigma", "0.25", "--images", "6", "--n", "300", "--n0", "50", "--noise-batch", "100", "--threads", "1", "--seed", "11"};
        Path single = dir.resolve("single"), cluster = dir.resolve("cluster");
        tikhon(with(certify, "--out", single.toString()));

        List<Process> started = new ArrayList<>();
        Thread reaper = new Thread(() -> stopAll(started));
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            Path home = Files.createDirectories(dir.resolve("spark-home"));
            Files.createDirectories(home.resolve("jars"));   // the workers' executor launcher wants $SPARK_HOME/jars (the jars come by class path)
            int port = freePort();
            String master = "spark://" + HOST + ":" + port;
            started.add(launch(home, dir.resolve("master.log"), "org.apache.spark.deploy.master.Master",
                    "--host", HOST, "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort())));
            awaitPort(port, 90);
            for (int w = 1; w <= 2; w++) {
                started.add(launch(home, dir.resolve("worker" + w + ".log"), "org.apache.spark.deploy.worker.Worker",
                        "--host", HOST, "--cores", "1", "--memory", "1g", "--webui-port", String.valueOf(freePort()),
                        "--work-dir", dir.resolve("work" + w).toString(), master));
            }
            tikhon(with(certify, "--out", cluster.toString(), "--spark", master, "--partitions", "4",
                    "--spark-conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
                    "--spark-conf", "spark.driver.host=" + HOST, "--spark-conf", "spark.driver.bindAddress=" + HOST,
                    "--spark-conf", "spark.ui.enabled=false", "--spark-conf", "spark.executor.memory=768m", "--spark-conf", "spark.cores.max=2",
                    // start only when both executors are up, so that both take part
                    "--spark-conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                    "--spark-conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s"));
        } finally {
            stopAll(started);
            Runtime.getRuntime().removeShutdownHook(reaper);
        }
        assertThat(certifyRows(cluster)).hasSize(7).containsExactlyElementsOf(certifyRows(single));
        JsonNode m = new ObjectMapper().readTree(cluster.resolve("metrics.json").toFile());
        assertThat(m.at("/spark/master").asText()).startsWith("spark://" + HOST + ":");
        assertThat(m.at("/spark/executors").asInt()).isEqualTo(2);
        assertThat(m.at("/spark/model_loads").asLong()).isBetween(1L, 2L);   // once per executor (one core each)
    }

    private static Process launch(Path home, Path log, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        for (String o : System.getProperty("tikhon.spark.jvm.options", "").trim().split("\\s+")) if (!o.isEmpty()) cmd.add(o);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", HOST);
        return pb.start();
    }

    private static void stopAll(List<Process> processes) {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);   // the workers' executors
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }

    private static void awaitPort(int port, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(250);
            }
        }
        throw new AssertionError("the Spark master did not open port " + port + " within " + seconds + " s");
    }

}
