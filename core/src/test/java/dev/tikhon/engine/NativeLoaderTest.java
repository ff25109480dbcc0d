package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libtorch's shared libraries are extracted, all into one JavaCPP cache folder, before any torch class loads, so the
 * {@code libtorch.so} stub finds its bundled siblings there rather than a system-wide libtorch.
 */
class NativeLoaderTest {

    @Test
    void theBundledLibrariesSitSideBySideInOneCacheFolder() {
        Engine.init();
        List<File> libs = NativeLoader.extract();
        assertThat(NativeLoader.extract()).isSameAs(libs);   // once per process
        List<String> names = libs.stream().map(File::getName).toList();
        assertThat(names).contains("libc10.so", "libtorch_cpu.so", "libtorch.so");
        // the stub last, after the libraries its RUNPATH must find beside it
        assertThat(names.indexOf("libtorch.so")).isGreaterThan(names.indexOf("libtorch_cpu.so"));
        assertThat(libs).allSatisfy(f -> assertThat(f).isFile());
        assertThat(libs.stream().map(File::getParentFile).distinct()).hasSize(1);
        assertThat(Engine.describe().get("native_cache")).isEqualTo(libs.get(0).getParent());
        // the GPU flavour, and only it, carries the CUDA libraries
        assertThat(names.contains("libtorch_cuda.so")).isEqualTo(NativeLoader.gpuFlavour());
        assertThat(Engine.describe().get("platform").toString().endsWith("-gpu")).isEqualTo(NativeLoader.gpuFlavour());
    }
}
