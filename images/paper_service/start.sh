#!/bin/sh
# The seed author's test service, rebuilt from busybox: busybox httpd takes the requests, and one
# worker serves them one at a time, in arrival order, each keeping the CPU busy for an
# exponentially distributed time (mean $MEAN_MS ms) drawn when the request arrives.
# GET /cgi-bin/req answers once its turn is done and prints gru:<service>:response_time:<ms>:ms
# (arrival to answer: queueing plus work) on the container's stdout for Gru's log reader.
mkfifo /tmp/queue
/bin/sh /worker.sh &
exec /bin/httpd -f -p 80 -h /www
