CMD ["/bin/httpd", "-f", "-v", "-p", "80", "-h", "/www"]
ENV GRU_SERVICE=web WORK=20000
EXPOSE 80
