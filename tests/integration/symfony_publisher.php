<?php
// symfony_publisher.php -- publishes one update with the Symfony Mercure
// component, as a Symfony app's HubInterface does (the Debian package
// php-symfony-mercure). Argument: a JSON object {"url", "public_url",
// "token", "update": {"topics", "data", "private", "id", "type",
// "retry"}}. Prints the id the hub answered; on failure prints the
// exception chain to stderr and exits 1.
require_once 'Symfony/Component/Mercure/autoload.php';

use Symfony\Component\Mercure\Hub;
use Symfony\Component\Mercure\Jwt\StaticTokenProvider;
use Symfony\Component\Mercure\Update;

$spec = json_decode($argv[1], true, 16, JSON_THROW_ON_ERROR);
$u = $spec['update'];
$hub = new Hub($spec['url'], new StaticTokenProvider($spec['token']), null,
               $spec['public_url']);
try {
    echo $hub->publish(new Update($u['topics'], $u['data'],
                                  $u['private'] ?? false, $u['id'] ?? null,
                                  $u['type'] ?? null, $u['retry'] ?? null));
} catch (Throwable $e) {
    for (; $e !== null; $e = $e->getPrevious())
        fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
