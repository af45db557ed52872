package dev.serverframework.metrics;

import org.junit.jupiter.api.Test;

import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard's page, with uPlot's files inlined, also builds when the metrics jar is a named module on a
 * module path (the other tests run on the class path): the module is loaded in a layer of its own, from
 * {@code target/classes} and the jars it runs with, and its Dashboard reads its resources from there.
 */
class DashboardModulePathTest {
    private static final String MODULE = "dev.serverframework.metrics";

    @Test
    void thePageHasUPlotOnTheModulePath() throws Exception {
        String runtime = System.getProperty("serverframework.metrics.runtimePath");
        assertNotNull(runtime, "set by metrics/pom.xml (dependency:build-classpath)");
        List<Path> paths = new ArrayList<>();
        // This module's classes: the directory the class path's Dashboard came from (target/classes).
        paths.add(Path.of(Dashboard.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        for (String p : runtime.split(java.io.File.pathSeparator)) {
            if (!p.isBlank()) {
                paths.add(Path.of(p));
            }
        }
        ModuleFinder finder = ModuleFinder.of(paths.toArray(Path[]::new));
        ModuleLayer boot = ModuleLayer.boot();
        Configuration cf = boot.configuration().resolve(finder, ModuleFinder.of(), Set.of(MODULE));
        ModuleLayer.Controller layer = ModuleLayer.defineModulesWithOneLoader(cf, List.of(boot),
                ClassLoader.getPlatformClassLoader());
        Module metrics = layer.layer().findModule(MODULE).orElseThrow();
        assertTrue(metrics.getDescriptor().requires().stream().noneMatch(r -> r.name().equals("uplot")),
                "no module named after uPlot's jar file: " + metrics.getDescriptor().requires());
        // Only so that this test may call the private page(): Dashboard itself reads from inside its module.
        layer.addOpens(metrics, "dev.serverframework.metrics", DashboardModulePathTest.class.getModule());
        Class<?> dashboard = Class.forName(MODULE + ".Dashboard", true, layer.layer().findLoader(MODULE));
        assertTrue(dashboard.getModule().isNamed(), "Dashboard is in the named module: " + dashboard.getModule());
        Method page = dashboard.getDeclaredMethod("page");
        page.setAccessible(true);
        String html = new String((byte[]) page.invoke(null), StandardCharsets.UTF_8);
        assertTrue(html.contains("id=\"c-rps\"") && html.contains("var uPlot=function()") && html.contains(".uplot"),
                "the page, with uPlot's script and stylesheet");
        assertFalse(html.contains("<!-- uPlot -->"), "the marker is replaced");
    }
}
