<?php
/**
 * A webhook receiver for `php -S 127.0.0.1:PORT receiver.php`: verifies X-Commentguard-Signature with the plugin's
 * function, maps each event with commentguard_event_status, and appends one JSON line per delivery to the file named
 * by CG_RECEIVER_LOG: {"verified", "events": [{"commentId", "status"}]}. Answers 200 when verified, else 401.
 */
require __DIR__ . '/../commentguard/includes/client.php';

$body = file_get_contents('php://input');
$signature = $_SERVER['HTTP_X_COMMENTGUARD_SIGNATURE'] ?? null;
$verified = commentguard_verify_signature($signature, $body, (string) getenv('CG_WEBHOOK_SECRET'), time());
$events = [];
if ($verified) {
    foreach ((json_decode($body, true)['events'] ?? []) as $event) {
        $events[] = ['commentId' => $event['commentId'], 'status' => commentguard_event_status($event)];
    }
}
file_put_contents((string) getenv('CG_RECEIVER_LOG'), json_encode(['verified' => $verified, 'events' => $events]) . "\n", FILE_APPEND | LOCK_EX);
http_response_code($verified ? 200 : 401);
header('Content-Type: application/json');
echo json_encode(['verified' => $verified]);
