<?php
/**
 * Just enough of WordPress's HTTP API for the plugin's client code to run under the PHP CLI (tests/wordpress_php.rs):
 * wp_remote_post / wp_remote_get on PHP's own HTTP stream wrapper, and the helpers that read their answers.
 */

class WP_Error
{
    private string $message;

    public function __construct(string $code = '', string $message = '')
    {
        $this->message = $message;
    }

    public function get_error_message(): string
    {
        return $this->message;
    }
}

function is_wp_error($thing): bool
{
    return $thing instanceof WP_Error;
}

function commentguard_shim_request(string $method, string $url, array $args)
{
    $headers = [];
    foreach ($args['headers'] ?? [] as $name => $value) {
        $headers[] = $name . ': ' . $value;
    }
    $context = stream_context_create(['http' => [
        'method' => $method,
        'header' => implode("\r\n", $headers),
        'content' => $args['body'] ?? '',
        'timeout' => $args['timeout'] ?? 5,
        'ignore_errors' => true, // read 4xx/5xx bodies too
        'protocol_version' => 1.1,
    ]]);
    $body = @file_get_contents($url, false, $context);
    if ($body === false || !isset($http_response_header)) {
        return new WP_Error('http_request_failed', 'no answer');
    }
    $status = 0;
    $answer_headers = [];
    foreach ($http_response_header as $line) {
        if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $m)) {
            $status = (int) $m[1];
        } elseif (strpos($line, ':') !== false) {
            [$name, $value] = explode(':', $line, 2);
            $answer_headers[strtolower(trim($name))] = trim($value);
        }
    }
    return ['response' => ['code' => $status], 'headers' => $answer_headers, 'body' => $body];
}

function wp_remote_post(string $url, array $args = [])
{
    return commentguard_shim_request('POST', $url, $args);
}

function wp_remote_get(string $url, array $args = [])
{
    return commentguard_shim_request('GET', $url, $args);
}

function wp_remote_retrieve_response_code($response)
{
    return $response['response']['code'] ?? '';
}

function wp_remote_retrieve_body($response): string
{
    return $response['body'] ?? '';
}

function wp_remote_retrieve_header($response, string $name): string
{
    return $response['headers'][strtolower($name)] ?? '';
}
