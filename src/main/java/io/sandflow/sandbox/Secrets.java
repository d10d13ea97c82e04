package io.sandflow.sandbox;

import java.util.Locale;

/**
 * Which environment variables hold secrets. Such a value may reach a process only through its environment,
 * never through an argv, which every user of the machine can read with {@code ps}.
 */
public final class Secrets {

    private static final String[] SUFFIXES = {"_KEY", "_TOKEN", "_SECRET", "_PASSWORD"};

    private Secrets() {
    }

    /**
     * The secret variables of {@code env} that a child must not inherit: every secret-named one not listed in
     * {@code inherited}, each mapped to null (a process spec removes such a variable).
     */
    public static java.util.Map<String, String> withheld(java.util.Map<String, String> env,
                                                         java.util.Collection<String> inherited) {
        java.util.Map<String, String> removed = new java.util.TreeMap<>();
        env.keySet().forEach(name -> {
            if (isSecretName(name) && !inherited.contains(name)) {
                removed.put(name, null);
            }
        });
        return removed;
    }

    public static boolean isSecretName(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        for (String suffix : SUFFIXES) {
            if (upper.endsWith(suffix)) {
                return true;
            }
        }
        return upper.equals("ANTHROPIC_API_KEY") || upper.contains("PASSWORD") || upper.contains("CREDENTIAL");
    }
}
