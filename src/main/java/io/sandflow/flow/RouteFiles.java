package io.sandflow.flow;

import io.sandflow.config.ConfigException;
import io.sandflow.config.SandflowConfig;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The route files a working folder runs, and their checks. The rule: each file of the working folder's
 * {@code routes/} replaces the built-in file of the same name, the built-in files it does not replace stay, and its
 * other {@code *.camel.yaml} files are added. Before Camel starts, every file must be valid YAML and together they
 * must define each route the engine sends to or relies on, once; when Camel cannot create a route (a bean or method
 * that does not exist), {@link #explain} turns its exception into one sentence naming the file.
 */
public final class RouteFiles {

    /** The route files built into the jar (a test keeps this list equal to the project's routes/ folder). */
    static final List<String> BUILT_IN = List.of("intake.camel.yaml", "dispatch.camel.yaml", "results.camel.yaml",
            "errors.camel.yaml", "housekeeping.camel.yaml", "observe.camel.yaml");

    /** The route ids the engine needs: it sends to them, suspends them, or relies on what they do. */
    static final List<String> REQUIRED_ROUTES = List.of("intake", "inbox-survey", "retries", "dispatch", "attempt",
            "publish", "fail", "housekeeping", "observe");
    /** The route configuration the job routes name. */
    static final String REQUIRED_CONFIGURATION = "job-errors";

    /** One route file: {@code shown} is how messages name it, {@code location} how Camel loads it. */
    public record RouteFile(String name, String shown, String location, Path path) {

        public boolean builtIn() {
            return path == null;
        }

        String text() {
            try {
                if (path != null) {
                    return Files.readString(path, StandardCharsets.UTF_8);
                }
                try (InputStream in = RouteFiles.class.getClassLoader().getResourceAsStream("routes/" + name)) {
                    if (in == null) {
                        throw new IllegalStateException("routes/" + name + " is missing from the jar");
                    }
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw new ConfigException(shown + ": cannot read it (" + e.getMessage() + ")", e);
            }
        }
    }

    private final Path workDir;
    private final List<RouteFile> files;

    private RouteFiles(Path workDir, List<RouteFile> files) {
        this.workDir = workDir;
        this.files = files;
    }

    /** The files a working folder runs, by the rule above. */
    public static RouteFiles of(Path workDir) {
        Path routes = workDir.resolve("routes");
        List<RouteFile> files = new ArrayList<>();
        for (String name : BUILT_IN) {
            Path own = routes.resolve(name);
            files.add(Files.isRegularFile(own) ? own(own)
                    : new RouteFile(name, "the built-in routes/" + name, "classpath:routes/" + name, null));
        }
        if (Files.isDirectory(routes)) {
            try (Stream<Path> list = Files.list(routes)) {
                list.filter(p -> p.getFileName().toString().endsWith(".camel.yaml") && Files.isRegularFile(p))
                        .filter(p -> !BUILT_IN.contains(p.getFileName().toString()))
                        .sorted().forEach(p -> files.add(own(p)));
            } catch (IOException e) {
                throw new ConfigException(routes + ": cannot list it (" + e.getMessage() + ")", e);
            }
        }
        return new RouteFiles(workDir.toAbsolutePath().normalize(), List.copyOf(files));
    }

    private static RouteFile own(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        return new RouteFile(file.getFileName().toString(), "routes/" + file.getFileName(), "file:" + abs, abs);
    }

    public List<RouteFile> files() {
        return files;
    }

    /**
     * Camel's routes include pattern. Built-in files are named one by one: a wildcard makes Camel read every entry of
     * the (large) jar to find them, which was most of a second of every start-up.
     */
    String includePattern() {
        return String.join(",", files.stream().map(RouteFile::location).toList());
    }

    /**
     * Reads every file as YAML and checks that the routes the engine needs are each defined once.
     *
     * @throws ConfigException naming the file, line and column of a syntax error, or the missing or doubled route
     */
    public void check() {
        Map<String, RouteFile> routeIds = new LinkedHashMap<>();
        Map<String, RouteFile> configurationIds = new LinkedHashMap<>();
        for (RouteFile file : files) {
            for (Map.Entry<String, String> id : ids(file).entrySet()) {
                boolean route = id.getValue().equals("route");
                RouteFile first = (route ? routeIds : configurationIds).putIfAbsent(id.getKey(), file);
                if (first != null) {
                    throw new ConfigException((route ? "route" : "route configuration") + " id '" + id.getKey()
                            + "' is defined twice: in " + first.shown() + " and in " + file.shown() + "; a file under "
                            + "routes/ replaces only the built-in file of the same name");
                }
            }
        }
        for (String id : REQUIRED_ROUTES) {
            if (!routeIds.containsKey(id)) {
                throw missing("route '" + id + "'", builtInFileDefining(id));
            }
        }
        if (!configurationIds.containsKey(REQUIRED_CONFIGURATION)) {
            throw missing("route configuration '" + REQUIRED_CONFIGURATION + "'",
                    builtInFileDefining(REQUIRED_CONFIGURATION));
        }
    }

    private ConfigException missing(String what, String builtInFile) {
        Optional<RouteFile> replaced = files.stream().filter(f -> f.name().equals(builtInFile) && !f.builtIn())
                .findFirst();
        String where = replaced.map(f -> f.shown() + " replaces the built-in file that defines it; restore it there, "
                        + "or delete " + f.shown() + " to run the built-in one")
                .orElse("define it in a file under " + workDir.resolve("routes"));
        return new ConfigException("the routes lack the " + what + ", which Sandflow needs: " + where);
    }

    /** Which built-in file defines a route or route configuration id (for the message about a missing one). */
    private static String builtInFileDefining(String id) {
        for (String name : BUILT_IN) {
            if (ids(new RouteFile(name, name, "classpath:routes/" + name, null)).containsKey(id)) {
                return name;
            }
        }
        return "";
    }

    /** The ids a file defines: each route id or route configuration id, to "route" or "routeConfiguration". */
    private static Map<String, String> ids(RouteFile file) {
        Map<String, String> ids = new LinkedHashMap<>();
        for (Object document : parse(file)) {
            if (document instanceof List<?> items) {
                for (Object item : items) {
                    if (item instanceof Map<?, ?> map) {
                        for (String kind : List.of("route", "routeConfiguration")) {
                            if (map.get(kind) instanceof Map<?, ?> definition
                                    && definition.get("id") instanceof String id) {
                                ids.putIfAbsent(id, kind);
                            }
                        }
                    }
                }
            }
        }
        return ids;
    }

    private static List<Object> parse(RouteFile file) {
        String text = file.text();
        try {
            List<Object> documents = new ArrayList<>();
            new Load(LoadSettings.builder().setLabel(file.shown()).build()).loadAllFromString(text)
                    .forEach(documents::add);
            return documents;
        } catch (MarkedYamlEngineException e) {
            throw new ConfigException(where(file.shown(), e) + ": " + problem(e), e);
        } catch (YamlEngineException e) {
            throw new ConfigException(file.shown() + ": not valid YAML (" + e.getMessage() + ")", e);
        }
    }

    private static String where(String shown, MarkedYamlEngineException e) {
        Optional<Mark> mark = e.getProblemMark().or(e::getContextMark);
        return mark.map(m -> shown + ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1)).orElse(shown);
    }

    private static String problem(MarkedYamlEngineException e) {
        String problem = e.getProblem() == null ? "not valid YAML" : e.getProblem().strip();
        if (e.getContext() != null && e.getContextMark().isPresent()) {
            Mark m = e.getContextMark().get();
            problem += " (" + e.getContext().strip() + " at line " + (m.getLine() + 1) + ", column "
                    + (m.getColumn() + 1) + ")";
        }
        return problem;
    }

    /**
     * Lets Camel load and create every route without starting any (no consumer polls, no folder is made): what the
     * daemon's start would refuse, said as one sentence ({@code doctor}).
     */
    public void verify(SandflowConfig config) {
        try (org.apache.camel.impl.DefaultCamelContext context = new org.apache.camel.impl.DefaultCamelContext()) {
            SandflowConfiguration configuration = new SandflowConfiguration(config, new Node(config));
            try {
                configuration.configure(context);
                org.apache.camel.spi.ResourceLoader resources = org.apache.camel.support.PluginHelper
                        .getResourceLoader(context);
                List<org.apache.camel.spi.Resource> loaded = new ArrayList<>();
                for (RouteFile file : files) {
                    loaded.add(resources.resolveResource(file.location()));
                }
                org.apache.camel.support.PluginHelper.getRoutesLoader(context).loadRoutes(loaded);
                context.init();
            } finally {
                configuration.control().shutdownNow();
            }
        } catch (ConfigException e) {
            throw e;
        } catch (Exception e) {
            ConfigException sentence = explain(e);
            throw sentence != null ? sentence : new ConfigException("the routes cannot be loaded: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip()
                    .split("\\R", 2)[0]), e);
        }
    }

    /**
     * One sentence for a failure of Camel to load or create a route, naming the file and, where it can, the line;
     * null when the failure is not about a route.
     */
    ConfigException explain(Throwable failure) {
        org.apache.camel.FailedToCreateRouteException route = null;
        MarkedYamlEngineException yaml = null;
        org.apache.camel.NoSuchBeanException noBean = null;
        org.apache.camel.component.bean.MethodNotFoundException noMethod = null;
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof org.apache.camel.FailedToCreateRouteException r && route == null) {
                route = r;
            } else if (t instanceof MarkedYamlEngineException m && yaml == null) {
                yaml = m;
            } else if (t instanceof org.apache.camel.NoSuchBeanException b && noBean == null) {
                noBean = b;
            } else if (t instanceof org.apache.camel.component.bean.MethodNotFoundException m && noMethod == null) {
                noMethod = m;
            }
        }
        if (yaml != null) {
            Optional<Mark> mark = yaml.getProblemMark().or(yaml::getContextMark);
            String shown = mark.map(m -> shownFor(m.getName())).orElse("a route file");
            return new ConfigException(where(shown, yaml) + ": " + problem(yaml), failure);
        }
        if (route == null) {
            return null;
        }
        String id = route.getRouteId();
        RouteFile file = fileDefining(id);
        String inRoute = "route '" + id + "'" + (file == null ? "" : " in " + file.shown());
        if (noMethod != null) {
            Object bean = noMethod.getBean();
            String type = bean == null ? "" : bean instanceof Class<?> c ? c.getSimpleName()
                    : bean.getClass().getSimpleName();
            String at = at(file, noMethod.getMethodName());
            return new ConfigException(at + (at.isEmpty() ? inRoute : "route '" + id + "'") + " calls the method '"
                    + noMethod.getMethodName() + "'" + (type.isEmpty() ? "" : " on a " + type)
                    + ", which has no such method", failure);
        }
        if (noBean != null) {
            String at = at(file, noBean.getName());
            return new ConfigException(at + (at.isEmpty() ? inRoute : "route '" + id + "'") + " names the bean '"
                    + noBean.getName() + "', which does not exist", failure);
        }
        Throwable root = route;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String why = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage().strip()
                .split("\\R", 2)[0];
        return new ConfigException(inRoute + " cannot be created: " + why, failure);
    }

    /** "routes/dispatch.camel.yaml:14:21: " for the first place the file names {@code token}; empty when unknown. */
    private static String at(RouteFile file, String token) {
        if (file == null || token == null || token.isEmpty()) {
            return "";
        }
        String[] lines = file.text().split("\\R", -1);
        Pattern word = Pattern.compile("(?<![\\w.-])" + Pattern.quote(token) + "(?![\\w-])");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.stripLeading().startsWith("#")) {
                continue;
            }
            Matcher m = word.matcher(line);
            if (m.find()) {
                return file.shown() + ":" + (i + 1) + ":" + (m.start() + 1) + ": ";
            }
        }
        return "";
    }

    private RouteFile fileDefining(String routeId) {
        if (routeId == null) {
            return null;
        }
        return files.stream().filter(f -> "route".equals(ids(f).get(routeId))).findFirst().orElse(null);
    }

    /** How messages name the file Camel or the YAML parser called {@code name} (a location or a label). */
    private String shownFor(String name) {
        if (name == null) {
            return "a route file";
        }
        for (RouteFile f : files) {
            if (name.equals(f.location()) || name.equals(f.shown()) || (f.path() != null && name.endsWith(
                    f.path().toString()))) {
                return f.shown();
            }
        }
        return name;
    }
}
