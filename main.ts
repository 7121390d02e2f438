console.log("gru")
