package cn.gov.yantai.solr;

import java.util.Map;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Starts Solr on 127.0.0.1 with Solr's own Jetty launcher, the same servlet wiring as Solr's web.xml.
 *
 * <p>Usage: {@code java -cp ... cn.gov.yantai.solr.Server SOLR_HOME PORT}. Exits non-zero when a core
 * fails to load, since Solr itself only logs such failures.
 */
public final class Server {
  private Server() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Server SOLR_HOME PORT");
      System.exit(2);
    }
    String home = args[0];
    int port = Integer.parseInt(args[1]);
    JettySolrRunner runner =
        new JettySolrRunner(
            home, JettyConfig.builder().setPort(port).stopAtShutdown(true).build());
    runner.start();

    CoreContainer cores = runner.getCoreContainer();
    Map<String, CoreContainer.CoreLoadFailure> failures = cores.getCoreInitFailures();
    if (cores.isShutDown() || !failures.isEmpty()) {
      failures.forEach(
          (name, failure) ->
              System.err.println("core " + name + " failed: " + failure.exception));
      runner.stop();
      System.exit(1);
    }
    System.out.println(
        "Solr " + CoreContainer.class.getPackage().getImplementationVersion() + " ready on http://127.0.0.1:"
            + runner.getLocalPort() + "/solr cores=" + cores.getLoadedCoreNames());
  }
}
